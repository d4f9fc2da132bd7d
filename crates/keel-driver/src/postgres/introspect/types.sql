-- Domains and stand-alone composite types in the namespaces $1 that do not belong to an
-- extension, in creation order (oid): what follows the name in CREATE DOMAIN / CREATE TYPE,
-- rebuilt from the catalog. A collation is named only where it is not the base type's; a
-- domain's CHECK constraints by name (NOT NULL is typnotnull).
SELECT t.typnamespace AS namespace,
       t.typname::text AS name,
       t.typtype = 'c' AS composite,
       CASE WHEN t.typtype = 'd' THEN
           'AS ' || pg_catalog.format_type(t.typbasetype, t.typtypmod)
           || CASE WHEN t.typcollation <> 0
                    AND t.typcollation <> (SELECT b.typcollation FROM pg_catalog.pg_type b WHERE b.oid = t.typbasetype)
                   THEN ' COLLATE ' || (SELECT quote_ident(c.collname) FROM pg_catalog.pg_collation c WHERE c.oid = t.typcollation)
                   ELSE '' END
           || coalesce(' DEFAULT ' || t.typdefault, '')
           || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
           || coalesce((SELECT string_agg(' CONSTRAINT ' || quote_ident(con.conname) || ' '
                                          || pg_catalog.pg_get_constraintdef(con.oid, true), ''
                                          ORDER BY con.conname)
                        FROM pg_catalog.pg_constraint con
                        WHERE con.contypid = t.oid AND con.contype = 'c'), '')
       ELSE
           'AS (' || coalesce((SELECT string_agg(quote_ident(a.attname) || ' '
                                   || pg_catalog.format_type(a.atttypid, a.atttypmod)
                                   || CASE WHEN a.attcollation <> 0
                                            AND a.attcollation <> (SELECT b.typcollation FROM pg_catalog.pg_type b WHERE b.oid = a.atttypid)
                                           THEN ' COLLATE ' || (SELECT quote_ident(c.collname) FROM pg_catalog.pg_collation c WHERE c.oid = a.attcollation)
                                           ELSE '' END,
                                   ', ' ORDER BY a.attnum)
                               FROM pg_catalog.pg_attribute a
                               WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '')
           || ')'
       END AS definition
FROM pg_catalog.pg_type t
WHERE t.typnamespace = ANY ($1::oid[])
  AND (t.typtype = 'd'
       OR (t.typtype = 'c'
           AND (SELECT r.relkind FROM pg_catalog.pg_class r WHERE r.oid = t.typrelid) = 'c'))
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = 'pg_catalog.pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')
ORDER BY t.oid
