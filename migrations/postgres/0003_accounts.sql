-- Users of each tenant, their refresh-token families, password-reset tokens, invitations,
-- and the outbox of emails Caravan sends. Names match migrations/sqlite.
-- Tokens are stored as SHA-256 hashes only; the plain value exists only in what was sent.

CREATE TABLE users (
    id            TEXT NOT NULL,
    tenant_id     TEXT NOT NULL,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    phone         TEXT,
    role          TEXT NOT NULL,
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    password_hash TEXT,
    invited_by    TEXT,
    last_login_at TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT users_role_check CHECK (role IN ('admin', 'consultant')),
    CONSTRAINT users_email_lower_check CHECK (email = lower(email))
);

CREATE UNIQUE INDEX users_email_key ON users (tenant_id, email);
-- Login is tenant-agnostic: it looks an address up across tenants.
CREATE INDEX users_login_idx ON users (email);

-- One row per refresh token. A login starts a family; each refresh rotates to a child in the
-- same family; presenting a rotated token after the grace period revokes the whole family.
CREATE TABLE refresh_tokens (
    id          TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    family_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    rotated_at  TIMESTAMPTZ,
    replaced_by TEXT,
    revoked_at  TIMESTAMPTZ,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT refresh_tokens_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT refresh_tokens_user_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX refresh_tokens_token_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (tenant_id, family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (tenant_id, user_id);

CREATE TABLE password_reset_tokens (
    id         TEXT NOT NULL,
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    CONSTRAINT password_reset_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT password_reset_tokens_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT password_reset_tokens_user_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX password_reset_tokens_token_hash_key ON password_reset_tokens (token_hash);

CREATE TABLE invitations (
    id          TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    email       TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    invited_by  TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    CONSTRAINT invitations_pkey PRIMARY KEY (id),
    CONSTRAINT invitations_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT invitations_role_check CHECK (role IN ('admin', 'consultant')),
    CONSTRAINT invitations_email_lower_check CHECK (email = lower(email))
);

CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);
-- At most one pending invitation per address and tenant.
CREATE UNIQUE INDEX invitations_pending_key ON invitations (tenant_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- Every email Caravan sends, whatever the transport; `object_key` names the stored .eml.
CREATE TABLE outbound_emails (
    id          TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    to_address  TEXT NOT NULL,
    from_address TEXT NOT NULL,
    subject     TEXT NOT NULL,
    object_key  TEXT NOT NULL,
    transport   TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ,
    CONSTRAINT outbound_emails_pkey PRIMARY KEY (id),
    CONSTRAINT outbound_emails_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT outbound_emails_status_check CHECK (status IN ('queued', 'sent', 'failed'))
);

CREATE INDEX outbound_emails_tenant_created_idx ON outbound_emails (tenant_id, created_at DESC);
