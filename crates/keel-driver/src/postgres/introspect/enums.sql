-- Enum types in the namespaces $1 that do not belong to an extension, values in enumsortorder.
SELECT t.typnamespace AS namespace,
       t.typname::text AS name,
       ARRAY(
           SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
           WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels
FROM pg_catalog.pg_type t
WHERE t.typnamespace = ANY ($1::oid[])
  AND t.typtype = 'e'
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = 'pg_catalog.pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')
