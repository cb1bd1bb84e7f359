-- Row-level security: the second wall between tenants, behind the `tenant_id` filter every
-- query already carries. FORCE makes the policies apply to the tables' owner too, so the only
-- ways past them are a superuser or a BYPASSRLS role, which Caravan refuses to run as.
--
-- A transaction sees a tenant's rows after `set_config('caravan.tenant_id', <id>, true)`.
-- The few cross-tenant lookups (login by email, a token by its hash, the plugin binaries still
-- in use, the admin tenant list) set `caravan.scope` to `platform` instead. A query run with
-- neither setting sees no tenant-owned rows at all. Both settings are transaction-local.

CREATE FUNCTION caravan_enable_tenant_rls(target regclass) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', target);
    EXECUTE format(
        'CREATE POLICY tenant_isolation ON %s '
        'USING (tenant_id = current_setting(''caravan.tenant_id'', true) '
        '       OR current_setting(''caravan.scope'', true) = ''platform'') '
        'WITH CHECK (tenant_id = current_setting(''caravan.tenant_id'', true) '
        '       OR current_setting(''caravan.scope'', true) = ''platform'')',
        target);
END
$fn$;

-- Later migrations call the function for each tenant-owned table they add; the schema
-- conformance test fails for any table with a `tenant_id` column that lacks the policy.
SELECT caravan_enable_tenant_rls(c.oid::regclass)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname = current_schema()
  AND EXISTS (SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped);
