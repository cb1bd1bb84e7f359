-- Quotes, and the CRM clients and activities quoting creates. Names match migrations/sqlite.

-- `quote_id` is unique across tenants because public PDF links look quotes up without one.
-- A quote made for an inbound message is made once (`quotes_inbound_key`): the worker's
-- quote step is safe to repeat.
CREATE TABLE quotes (
    id                 TEXT NOT NULL,
    tenant_id          TEXT NOT NULL,
    quote_id           TEXT NOT NULL,
    customer_name      TEXT NOT NULL,
    customer_email     TEXT NOT NULL,
    customer_phone     TEXT,
    destination        TEXT NOT NULL,
    check_in           TEXT,
    check_out          TEXT,
    nights             INTEGER NOT NULL DEFAULT 0,
    adults             INTEGER NOT NULL DEFAULT 0,
    children           INTEGER NOT NULL DEFAULT 0,
    children_ages      TEXT NOT NULL DEFAULT '[]',
    room_count         INTEGER NOT NULL DEFAULT 1,
    -- Options or line items as the API shows them (amounts in major units).
    hotels             TEXT NOT NULL DEFAULT '[]',
    -- The selected (first) option's total, in minor units of `currency`.
    total_minor        BIGINT NOT NULL DEFAULT 0,
    currency           TEXT NOT NULL,
    -- Per-currency sums of cart quotes, major units.
    totals             TEXT NOT NULL DEFAULT '{}',
    -- Warnings, plugin versions, fx snapshot: how the quote was made.
    details            TEXT NOT NULL DEFAULT '{}',
    status             TEXT NOT NULL,
    email_sent         BOOLEAN NOT NULL DEFAULT FALSE,
    pdf_object         TEXT,
    consultant_id      TEXT,
    source             TEXT NOT NULL,
    ticket_id          TEXT,
    inbound_message_id TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    sent_at            TIMESTAMPTZ,
    viewed_at          TIMESTAMPTZ,
    accepted_at        TIMESTAMPTZ,
    CONSTRAINT quotes_pkey PRIMARY KEY (id),
    CONSTRAINT quotes_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT quotes_total_check CHECK (total_minor >= 0)
);

CREATE UNIQUE INDEX quotes_quote_id_key ON quotes (quote_id);
CREATE UNIQUE INDEX quotes_inbound_key ON quotes (tenant_id, inbound_message_id);
CREATE INDEX quotes_created_idx ON quotes (tenant_id, created_at DESC);
CREATE INDEX quotes_status_idx ON quotes (tenant_id, status);
CREATE INDEX quotes_customer_idx ON quotes (tenant_id, customer_email);
SELECT caravan_enable_tenant_rls('quotes');

CREATE TABLE clients (
    id             TEXT NOT NULL,
    tenant_id      TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    email          TEXT NOT NULL,
    name           TEXT NOT NULL,
    phone          TEXT,
    source         TEXT NOT NULL,
    consultant_id  TEXT,
    pipeline_stage TEXT NOT NULL DEFAULT 'QUOTED',
    quote_count    INTEGER NOT NULL DEFAULT 0,
    -- Sum of the client's quote totals, minor units of the tenant currency.
    total_value    BIGINT NOT NULL DEFAULT 0,
    notes          TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT clients_pkey PRIMARY KEY (id),
    CONSTRAINT clients_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT clients_email_lower_check CHECK (email = lower(email))
);

CREATE UNIQUE INDEX clients_email_key ON clients (tenant_id, email);
CREATE UNIQUE INDEX clients_client_id_key ON clients (tenant_id, client_id);
SELECT caravan_enable_tenant_rls('clients');

-- `dedup_key` makes an activity written by retried work appear once.
CREATE TABLE client_activities (
    id            TEXT NOT NULL,
    tenant_id     TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    activity_type TEXT NOT NULL,
    description   TEXT NOT NULL,
    metadata      TEXT NOT NULL DEFAULT '{}',
    dedup_key     TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT client_activities_pkey PRIMARY KEY (id),
    CONSTRAINT client_activities_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT client_activities_client_fkey FOREIGN KEY (client_id)
        REFERENCES clients (id) ON DELETE CASCADE
);

CREATE INDEX client_activities_client_idx ON client_activities (tenant_id, client_id, created_at DESC);
CREATE UNIQUE INDEX client_activities_dedup_key ON client_activities (tenant_id, dedup_key);
SELECT caravan_enable_tenant_rls('client_activities');

-- Round-robin consultant assignment: least recently assigned first.
ALTER TABLE users ADD COLUMN last_assigned_at TIMESTAMPTZ;
