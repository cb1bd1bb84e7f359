-- Plugin versions (immutable), the active version per slot with its history, per-slot
-- settings, and call statistics. Names match migrations/postgres.

CREATE TABLE plugin_versions (
    id           TEXT NOT NULL,
    tenant_id    TEXT NOT NULL,
    slot         TEXT NOT NULL,
    label        TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    wit_version  TEXT NOT NULL,
    uploaded_by  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    validation   TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT plugin_versions_pkey PRIMARY KEY (id),
    CONSTRAINT plugin_versions_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT plugin_versions_slot_check
        CHECK (slot IN ('email-parser', 'quote-rules', 'pricing', 'pdf-template'))
);

CREATE UNIQUE INDEX plugin_versions_label_key ON plugin_versions (tenant_id, slot, label);
CREATE INDEX plugin_versions_sha256_idx ON plugin_versions (sha256);

-- The version serving each (tenant, slot); a missing row or a NULL version means the
-- built-in plugin.
CREATE TABLE plugin_activations (
    tenant_id    TEXT NOT NULL,
    slot         TEXT NOT NULL,
    version_id   TEXT,
    activated_at TEXT NOT NULL,
    activated_by TEXT NOT NULL,
    CONSTRAINT plugin_activations_pkey PRIMARY KEY (tenant_id, slot),
    CONSTRAINT plugin_activations_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT plugin_activations_version_fkey FOREIGN KEY (version_id)
        REFERENCES plugin_versions (id) ON DELETE CASCADE
);

CREATE TABLE plugin_activation_history (
    id                  TEXT NOT NULL,
    tenant_id           TEXT NOT NULL,
    slot                TEXT NOT NULL,
    action              TEXT NOT NULL,
    version_id          TEXT,
    previous_version_id TEXT,
    at                  TEXT NOT NULL,
    actor               TEXT NOT NULL,
    CONSTRAINT plugin_activation_history_pkey PRIMARY KEY (id),
    CONSTRAINT plugin_activation_history_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT plugin_activation_history_action_check CHECK (action IN ('activate', 'rollback'))
);

CREATE INDEX plugin_activation_history_slot_idx
    ON plugin_activation_history (tenant_id, slot, at DESC);

CREATE TABLE plugin_settings (
    tenant_id      TEXT NOT NULL,
    slot           TEXT NOT NULL,
    config         TEXT NOT NULL DEFAULT '{}',
    limits         TEXT,
    failure_policy TEXT NOT NULL DEFAULT 'fail_closed',
    updated_at     TEXT NOT NULL,
    CONSTRAINT plugin_settings_pkey PRIMARY KEY (tenant_id, slot),
    CONSTRAINT plugin_settings_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT plugin_settings_policy_check
        CHECK (failure_policy IN ('fail_closed', 'fallback_default'))
);

-- Aggregated outcomes per (tenant, slot, version, outcome); `version_key` is the version id
-- or `default`.
CREATE TABLE plugin_call_stats (
    tenant_id     TEXT NOT NULL,
    slot          TEXT NOT NULL,
    version_key   TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    calls         INTEGER NOT NULL DEFAULT 0,
    fuel_total    INTEGER NOT NULL DEFAULT 0,
    wall_us_total INTEGER NOT NULL DEFAULT 0,
    last_at       TEXT NOT NULL,
    CONSTRAINT plugin_call_stats_pkey PRIMARY KEY (tenant_id, slot, version_key, outcome),
    CONSTRAINT plugin_call_stats_tenant_fkey FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE
);
