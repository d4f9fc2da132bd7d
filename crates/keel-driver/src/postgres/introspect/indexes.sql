-- Indexes of the tables $1, except primary keys (read from pg_constraint) and exclusion
-- constraints (not in the model). `invalid`: left by a failed CREATE INDEX CONCURRENTLY (on a
-- partitioned table an index is never valid, and that is normal).
-- Per key position k: `keys[k]` is the attnum (0 for an expression); `exprs[k]` the expression
-- from pg_get_indexdef(oid, k, true), NULL for a plain column, and `exprs` itself NULL when the
-- index has no expression; `opclasses[k]` the operator class oid (named on the client from
-- opclasses.sql when it is not the default: a catalog join per key costs more than the rest of
-- this query). Positions past indnkeyatts are INCLUDE columns; indoption bit 0 is DESC.
-- The int2vector/oidvector columns are 0-based arrays; `[:]` makes them 1-based, which is what
-- clients decode.
SELECT i.indrelid AS table_oid,
       ic.relname::text AS name,
       i.indisunique AS is_unique,
       con.oid IS NOT NULL AS is_constraint,
       i.indnkeyatts::int4 AS key_count,
       (i.indkey::int2[])[:] AS keys,
       (i.indoption::int2[])[:] AS options,
       CASE WHEN i.indexprs IS NOT NULL THEN ARRAY(
           SELECT CASE WHEN k.attnum = 0
                       THEN pg_catalog.pg_get_indexdef(i.indexrelid, k.n::int4, true) END
           FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
           ORDER BY k.n) END AS exprs,
       (i.indclass::oid[])[:] AS opclasses,
       am.amname::text AS method,
       pg_catalog.pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       NOT i.indisvalid AND tc.relkind <> 'p' AS invalid,
       -- indnullsnotdistinct exists from PostgreSQL 15 on: read through to_jsonb so that the
       -- query runs on older servers too (NULL there); of unique indexes only (it means
       -- nothing on others, and to_jsonb of every pg_index row costs more than the rest).
       CASE WHEN i.indisunique
            THEN coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false)
            ELSE false END AS nulls_not_distinct,
       array_to_string(ic.reloptions, ', ') AS storage
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
LEFT JOIN pg_catalog.pg_constraint con
       ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype = 'u'
WHERE NOT i.indisprimary
  -- A partition's index attached to its parent's index is the parent's (created on attach).
  -- (Asked of partitions only: as an anti join it costs a scan of pg_inherits per index.)
  AND (NOT tc.relispartition
       OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits ih WHERE ih.inhrelid = i.indexrelid))
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_constraint x
        WHERE x.conindid = i.indexrelid AND x.conrelid = i.indrelid AND x.contype = 'x')
