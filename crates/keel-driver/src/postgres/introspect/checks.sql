-- Check constraints of the tables $1, as their expression: pg_get_expr of conbin, pretty-printed
-- (no redundant parentheses: `a > 0 AND (b > 0 OR c > 0)`), like index expressions and predicates.
-- Exclusion constraints as their whole definition (`EXCLUDE USING gist (…)`, with WHERE and
-- DEFERRABLE), pretty-printed too.
SELECT con.conrelid AS table_oid,
       con.conname::text AS name,
       CASE WHEN con.contype = 'x' THEN pg_catalog.pg_get_constraintdef(con.oid, true)
            ELSE pg_catalog.pg_get_expr(con.conbin, con.conrelid, true) END AS expression,
       con.convalidated AS validated
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_constraint con ON con.conrelid = r.oid AND con.contype IN ('c', 'x')
-- A partition's checks inherited from its parent are the parent's, and so are its exclusion
-- constraints cloned from the parent's (PostgreSQL 17).
WHERE (con.conislocal
       OR NOT (SELECT t.relispartition FROM pg_catalog.pg_class t WHERE t.oid = con.conrelid))
  AND con.conparentid = 0
