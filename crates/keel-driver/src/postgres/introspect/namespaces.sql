-- Schemas (namespaces) to introspect: every one but PostgreSQL's own.
-- `is_current` marks current_schema(), whose objects get namespace None in the model.
SELECT n.oid,
       n.nspname::text AS name,
       coalesce(n.nspname = current_schema(), false) AS is_current
FROM pg_catalog.pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%'
  AND n.nspname NOT LIKE 'pg\_temp\_%'
