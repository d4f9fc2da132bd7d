-- User triggers on the tables $1: not the internal ones that implement foreign keys, not the
-- clones a partitioned table's trigger gets on each partition (tgparentid, PostgreSQL 13+).
-- tgenabled: O fires (origin), D disabled, R replica only, A always.
SELECT t.tgrelid AS table_oid,
       t.tgname::text AS name,
       pg_catalog.pg_get_triggerdef(t.oid) AS definition,
       t.tgenabled::text AS enabled
FROM pg_catalog.pg_trigger t
WHERE t.tgrelid = ANY ($1::oid[])
  AND NOT t.tgisinternal
  AND t.tgparentid = 0
ORDER BY 1, 2
