-- Tables (plain and partitioned) in the namespaces $1, except the ledger tables named in $2
-- and tables that belong to an extension (pg_depend deptype 'e'); a partitioned table's key,
-- and a partition's parent and bound.
SELECT c.oid,
       c.relnamespace AS namespace,
       c.relname::text AS name,
       d.description AS comment,
       c.relrowsecurity AS row_security,
       c.relforcerowsecurity AS force_row_security,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_by,
       pp.relnamespace AS parent_namespace,
       pn.nspname::text AS parent_namespace_name,
       pp.relname::text AS parent_name,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END
           AS partition_bound
FROM pg_catalog.pg_class c
LEFT JOIN pg_catalog.pg_description d
       ON d.classoid = 'pg_catalog.pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = 0
LEFT JOIN pg_catalog.pg_inherits ih ON c.relispartition AND ih.inhrelid = c.oid
LEFT JOIN pg_catalog.pg_class pp ON pp.oid = ih.inhparent
LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = pp.relnamespace
WHERE c.relnamespace = ANY ($1::oid[])
  AND c.relkind IN ('r', 'p')
  AND NOT (c.relname = ANY ($2::text[]))
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
