-- Functions and procedures in the namespaces $1 that belong to no extension, with the
-- definition the server prints (pg_get_functiondef: CREATE OR REPLACE …, the name always
-- qualified) and the quoted namespace prefix to unqualify it by. Aggregates and window
-- functions are left out (pg_get_functiondef cannot print an aggregate).
SELECT p.pronamespace AS namespace,
       p.proname::text AS name,
       pg_catalog.pg_get_function_identity_arguments(p.oid) AS arguments,
       p.prokind = 'p' AS procedure,
       pg_catalog.pg_get_functiondef(p.oid) AS definition,
       pg_catalog.quote_ident(n.nspname) || '.' AS prefix
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.pronamespace = ANY ($1::oid[])
  AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = 'pg_catalog.pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
ORDER BY 1, 2, 3
