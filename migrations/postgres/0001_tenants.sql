-- Tenants and the inbound addresses that route mail to them.
-- Constraint and index names match migrations/sqlite so errors map identically.

CREATE TABLE tenants (
    id               TEXT NOT NULL,
    name             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'active',
    plan             TEXT NOT NULL,
    admin_email      TEXT NOT NULL,
    support_email    TEXT,
    config           JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    suspended_at     TIMESTAMPTZ,
    suspended_reason TEXT,
    CONSTRAINT tenants_pkey PRIMARY KEY (id),
    CONSTRAINT tenants_status_check CHECK (status IN ('active', 'suspended')),
    CONSTRAINT tenants_config_check CHECK (jsonb_typeof(config) = 'object')
);

CREATE INDEX tenants_status_created_idx ON tenants (status, created_at DESC);

CREATE TABLE tenant_inbound_addresses (
    tenant_id TEXT NOT NULL,
    address   TEXT NOT NULL,
    CONSTRAINT tenant_inbound_addresses_pkey PRIMARY KEY (tenant_id, address),
    CONSTRAINT tenant_inbound_addresses_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT tenant_inbound_addresses_address_lower_check CHECK (address = lower(address))
);

CREATE UNIQUE INDEX tenant_inbound_addresses_address_key ON tenant_inbound_addresses (address);
