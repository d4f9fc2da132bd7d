-- Columns of every table and view of the current database, in ordinal order (views' columns
-- are dropped by the caller).
SELECT
    CAST(TABLE_NAME AS CHAR) AS table_name,
    CAST(COLUMN_NAME AS CHAR) AS column_name,
    CAST(COLUMN_TYPE AS CHAR) AS column_type,
    CAST(IS_NULLABLE AS CHAR) AS is_nullable,
    CAST(COLUMN_DEFAULT AS CHAR) AS column_default,
    CAST(EXTRA AS CHAR) AS extra,
    CAST(GENERATION_EXPRESSION AS CHAR) AS generation_expression,
    CAST(COLLATION_NAME AS CHAR) AS collation_name,
    CAST(COLUMN_COMMENT AS CHAR) AS column_comment
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION
