-- Foreign-key columns of the current database, in key order, with their actions. Keys to
-- another database are left out: the model references tables of one schema.
SELECT
    CAST(k.TABLE_NAME AS CHAR) AS table_name,
    CAST(k.CONSTRAINT_NAME AS CHAR) AS constraint_name,
    CAST(k.COLUMN_NAME AS CHAR) AS column_name,
    CAST(k.REFERENCED_TABLE_NAME AS CHAR) AS referenced_table_name,
    CAST(k.REFERENCED_COLUMN_NAME AS CHAR) AS referenced_column_name,
    CAST(r.UPDATE_RULE AS CHAR) AS update_rule,
    CAST(r.DELETE_RULE AS CHAR) AS delete_rule
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA
 AND r.TABLE_NAME = k.TABLE_NAME
 AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
WHERE k.TABLE_SCHEMA = DATABASE()
  AND k.REFERENCED_TABLE_SCHEMA = k.TABLE_SCHEMA
  AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
