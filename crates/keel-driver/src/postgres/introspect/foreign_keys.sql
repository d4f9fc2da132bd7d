-- Foreign keys of the tables $1. Constraints cloned onto partitions or for a partitioned
-- referenced table (conparentid <> 0) are implied by their parent and skipped, as pg_dump does.
SELECT con.conrelid AS table_oid,
       con.conname::text AS name,
       con.conkey AS columns,
       con.confrelid AS referenced_oid,
       con.confkey AS referenced_columns,
       con.confdeltype::text AS on_delete,
       con.confupdtype::text AS on_update,
       con.condeferrable AS deferrable,
       con.condeferred AS deferred,
       con.convalidated AS validated
FROM unnest($1::oid[]) AS r(oid)
JOIN pg_catalog.pg_constraint con ON con.conrelid = r.oid AND con.contype = 'f'
WHERE con.conparentid = 0
