-- Key parts of the indexes of those tables (origin c = CREATE INDEX, u = UNIQUE constraint,
-- pk = PRIMARY KEY); cid -2 is an expression, -1 the rowid. sql is NULL for automatic indexes.
WITH tables AS (
    SELECT tl.name AS name
    FROM pragma_table_list AS tl
    WHERE tl.schema = 'main'
      AND tl.type = 'table'
      AND tl.name NOT LIKE 'sqlite\_%' ESCAPE '\'
      AND tl.name NOT IN (?1, ?2)
)
SELECT t.name AS table_name, il.name AS index_name, il."unique" AS is_unique,
       il.origin AS origin, il.partial AS partial, ix.seqno AS seqno, ix.cid AS cid,
       ix.name AS column_name, ix."desc" AS descending, ix.coll AS collation, m.sql AS sql
FROM tables AS t
JOIN pragma_index_list(t.name, 'main') AS il
JOIN pragma_index_xinfo(il.name, 'main') AS ix
LEFT JOIN sqlite_schema AS m ON m.type = 'index' AND m.name = il.name
WHERE ix.key = 1
ORDER BY t.name, il.name, ix.seqno
