-- Installed extensions but plpgsql (always there), with the schema each is installed in.
SELECT x.extname::text AS name,
       n.nspname::text AS namespace,
       coalesce(n.nspname = current_schema(), false) AS is_current
FROM pg_catalog.pg_extension x
JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace
WHERE x.extname <> 'plpgsql'
