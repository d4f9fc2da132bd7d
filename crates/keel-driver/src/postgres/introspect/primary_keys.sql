-- Primary keys of the tables $1, key columns (attnums) in key order.
SELECT con.conrelid AS table_oid,
       con.conname::text AS name,
       con.conkey AS columns
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_constraint con ON con.conrelid = r.oid AND con.contype = 'p'
-- A partition's key cloned from its parent's is the parent's (created again on attach).
WHERE con.conparentid = 0
