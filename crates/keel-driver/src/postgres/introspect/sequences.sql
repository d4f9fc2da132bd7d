-- Sequences in the namespaces $1 that are owned by no column (serial: deptype 'a'; identity:
-- deptype 'i') and belong to no extension.
SELECT c.relnamespace AS namespace,
       c.relname::text AS name,
       s.seqstart AS start,
       s.seqincrement AS increment
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
WHERE c.relnamespace = ANY ($1::oid[])
  AND c.relkind = 'S'
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend d
        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
          AND (d.deptype = 'e'
               OR (d.deptype IN ('a', 'i') AND d.refclassid = 'pg_catalog.pg_class'::regclass
                   AND d.refobjsubid > 0)))
