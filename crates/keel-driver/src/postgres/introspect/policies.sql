-- Row-level security policies of the tables $1, their parts as the server prints them: the
-- command, the roles (PUBLIC, or the names quoted and sorted), the USING and WITH CHECK
-- expressions deparsed (pg_get_expr).
SELECT pol.polrelid AS table_oid,
       pol.polname::text AS name,
       pol.polpermissive AS permissive,
       CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                       WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
       CASE WHEN pol.polroles = '{0}'::oid[] THEN 'PUBLIC'
            ELSE (SELECT string_agg(pg_catalog.quote_ident(r.rolname), ', ' ORDER BY r.rolname)
                  FROM pg_catalog.pg_roles r WHERE r.oid = ANY (pol.polroles)) END AS roles,
       pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) AS using_expr,
       pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) AS check_expr
FROM pg_catalog.pg_policy pol
WHERE pol.polrelid = ANY ($1::oid[])
ORDER BY 1, 2
