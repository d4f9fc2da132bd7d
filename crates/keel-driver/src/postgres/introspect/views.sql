-- Views and materialized views in the namespaces $1 that belong to no extension, except those
-- that read only ledger tables (named in $2). A view's relations are the pg_depend references
-- of its rewrite rule.
SELECT c.relnamespace AS namespace,
       c.relname::text AS name,
       pg_catalog.pg_get_viewdef(c.oid) AS definition,
       c.relkind = 'm' AS materialized,
       coalesce(ix.names, '{}') AS index_names,
       coalesce(ix.uniques, '{}') AS index_unique,
       coalesce(ix.definitions, '{}') AS index_definitions
FROM pg_catalog.pg_class c
-- A materialized view's indexes, by name: pg_get_indexdef after `ON schema.view ` (the
-- schema is a shadow database's own, so it is left out).
LEFT JOIN LATERAL (
    SELECT array_agg(d.name ORDER BY d.name COLLATE "C") AS names,
           array_agg(d.is_unique ORDER BY d.name COLLATE "C") AS uniques,
           array_agg(CASE WHEN starts_with(d.def, d.prefix) THEN substr(d.def, length(d.prefix) + 1)
                          ELSE d.def END ORDER BY d.name COLLATE "C") AS definitions
    FROM (SELECT ic.relname::text AS name, i.indisunique AS is_unique,
                 pg_catalog.pg_get_indexdef(i.indexrelid) AS def,
                 'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
                 || quote_ident(ic.relname) || ' ON ' || c.relnamespace::regnamespace::text
                 || '.' || quote_ident(c.relname) || ' ' AS prefix
          FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
          WHERE i.indrelid = c.oid AND c.relkind = 'm') d
) ix ON true
WHERE c.relnamespace = ANY ($1::oid[])
  AND c.relkind IN ('v', 'm')
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
  AND NOT (
        EXISTS (
            SELECT 1
            FROM pg_catalog.pg_rewrite rw
            JOIN pg_catalog.pg_depend d
              ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = rw.oid
             AND d.refclassid = 'pg_catalog.pg_class'::regclass
            JOIN pg_catalog.pg_class rc ON rc.oid = d.refobjid
            WHERE rw.ev_class = c.oid AND rc.oid <> c.oid AND rc.relname = ANY ($2::text[]))
        AND NOT EXISTS (
            SELECT 1
            FROM pg_catalog.pg_rewrite rw
            JOIN pg_catalog.pg_depend d
              ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = rw.oid
             AND d.refclassid = 'pg_catalog.pg_class'::regclass
            JOIN pg_catalog.pg_class rc ON rc.oid = d.refobjid
            WHERE rw.ev_class = c.oid AND rc.oid <> c.oid AND NOT (rc.relname = ANY ($2::text[]))))
