-- Index key parts (PRIMARY included) of the current database, with the expression of a
-- functional key part (MySQL 8.0.13+).
SELECT
    CAST(TABLE_NAME AS CHAR) AS table_name,
    CAST(INDEX_NAME AS CHAR) AS index_name,
    CAST(NON_UNIQUE AS SIGNED) AS non_unique,
    CAST(SEQ_IN_INDEX AS SIGNED) AS seq_in_index,
    CAST(COLUMN_NAME AS CHAR) AS column_name,
    CAST(COLLATION AS CHAR) AS collation,
    CAST(SUB_PART AS SIGNED) AS sub_part,
    CAST(INDEX_TYPE AS CHAR) AS index_type,
    CAST(EXPRESSION AS CHAR) AS expression
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
