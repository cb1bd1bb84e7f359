-- Inbound email and what it creates: the persisted messages the worker processes, messages
-- no tenant claimed, enquiry tickets, and the tenant's notifications.
-- Names match migrations/sqlite.

-- One row per received message, written before the webhook answers. The worker claims rows
-- (lease in `locked_until`), records each step's outcome in `steps`, and retries with
-- backoff (`next_attempt_at`) until `state` is `done` or `failed`.
CREATE TABLE inbound_messages (
    id                  TEXT NOT NULL,
    tenant_id           TEXT NOT NULL,
    diagnostic_id       TEXT NOT NULL,
    -- Message-ID without angle brackets, or a SHA-256 of sender, recipients, subject and text.
    dedup_key           TEXT NOT NULL,
    message_id          TEXT,
    resolution_strategy TEXT NOT NULL,
    sender              TEXT NOT NULL,
    subject             TEXT NOT NULL,
    -- The decoded email (JSON), what the parser plugin receives.
    email               TEXT NOT NULL,
    -- Object-store key of the payload as it arrived.
    raw_object          TEXT NOT NULL,
    state               TEXT NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TEXT NOT NULL,
    locked_until        TEXT,
    last_error          TEXT,
    steps               TEXT NOT NULL DEFAULT '{}',
    ticket_id           TEXT,
    received_at         TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CONSTRAINT inbound_messages_pkey PRIMARY KEY (id),
    CONSTRAINT inbound_messages_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT inbound_messages_state_check
        CHECK (state IN ('pending', 'processing', 'done', 'failed'))
);

CREATE UNIQUE INDEX inbound_messages_dedup_key ON inbound_messages (tenant_id, dedup_key);
CREATE INDEX inbound_messages_due_idx ON inbound_messages (state, next_attempt_at);
CREATE INDEX inbound_messages_received_idx ON inbound_messages (tenant_id, received_at DESC);

-- Messages no tenant claimed: kept for the platform admin, never dropped.
CREATE TABLE inbound_unrouted (
    id               TEXT NOT NULL,
    diagnostic_id    TEXT NOT NULL,
    to_email         TEXT NOT NULL,
    sender           TEXT NOT NULL,
    subject          TEXT NOT NULL,
    strategies_tried TEXT NOT NULL,
    raw_object       TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    CONSTRAINT inbound_unrouted_pkey PRIMARY KEY (id)
);

CREATE INDEX inbound_unrouted_received_idx ON inbound_unrouted (received_at DESC);

-- Enquiry tickets (the dashboard's triage). `ticket_id` is unique across tenants; an inbound
-- message creates at most one ticket (`tickets_inbound_key`), which is what makes the worker's
-- ticket step safe to repeat.
CREATE TABLE tickets (
    id                 TEXT NOT NULL,
    tenant_id          TEXT NOT NULL,
    ticket_id          TEXT NOT NULL,
    inbound_message_id TEXT,
    customer_name      TEXT NOT NULL,
    customer_email     TEXT NOT NULL,
    subject            TEXT NOT NULL,
    message            TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'open',
    priority           TEXT NOT NULL DEFAULT 'normal',
    source             TEXT NOT NULL DEFAULT 'email',
    assigned_to        TEXT,
    notes              TEXT,
    needs_review       INTEGER NOT NULL DEFAULT 0,
    metadata           TEXT NOT NULL DEFAULT '{}',
    enquiry            TEXT,
    conversation       TEXT NOT NULL DEFAULT '[]',
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    CONSTRAINT tickets_pkey PRIMARY KEY (id),
    CONSTRAINT tickets_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT tickets_status_check
        CHECK (status IN ('open', 'in_progress', 'resolved', 'closed')),
    CONSTRAINT tickets_priority_check
        CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    CONSTRAINT tickets_source_check CHECK (source IN ('email', 'web', 'phone', 'chat'))
);

CREATE UNIQUE INDEX tickets_ticket_id_key ON tickets (ticket_id);
CREATE UNIQUE INDEX tickets_inbound_key ON tickets (tenant_id, inbound_message_id);
CREATE INDEX tickets_status_idx ON tickets (tenant_id, status);
CREATE INDEX tickets_created_idx ON tickets (tenant_id, created_at DESC);

-- One row per recipient; `user_id` NULL is tenant-wide. `dedup_key` makes a retried
-- notification step insert nothing new.
CREATE TABLE notifications (
    id          TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    message     TEXT NOT NULL,
    entity_type TEXT,
    entity_id   TEXT,
    metadata    TEXT NOT NULL DEFAULT '{}',
    is_read     INTEGER NOT NULL DEFAULT 0,
    read_at     TEXT,
    dedup_key   TEXT,
    created_at  TEXT NOT NULL,
    CONSTRAINT notifications_pkey PRIMARY KEY (id),
    CONSTRAINT notifications_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT notifications_user_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE INDEX notifications_inbox_idx ON notifications (tenant_id, user_id, is_read, created_at DESC);
CREATE UNIQUE INDEX notifications_dedup_key ON notifications (tenant_id, dedup_key);

CREATE TABLE notification_preferences (
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    preferences TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CONSTRAINT notification_preferences_pkey PRIMARY KEY (tenant_id, user_id),
    CONSTRAINT notification_preferences_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT notification_preferences_user_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

-- A caller-chosen key per email (e.g. `inbound:<message>:reply`): sending the same key twice
-- returns the first record instead of a second email.
ALTER TABLE outbound_emails ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX outbound_emails_idempotency_key ON outbound_emails (tenant_id, idempotency_key);
