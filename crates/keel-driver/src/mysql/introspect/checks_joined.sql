-- Check constraints of the current database, on MySQL 8, whose CHECK_CONSTRAINTS lacks the
-- table: TABLE_CONSTRAINTS gives it (constraint names are unique per database there).
SELECT
    CAST(t.TABLE_NAME AS CHAR) AS table_name,
    CAST(c.CONSTRAINT_NAME AS CHAR) AS constraint_name,
    CAST(c.CHECK_CLAUSE AS CHAR) AS check_clause
FROM information_schema.TABLE_CONSTRAINTS t
JOIN information_schema.CHECK_CONSTRAINTS c
  ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA
 AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME
WHERE t.TABLE_SCHEMA = DATABASE()
  AND t.CONSTRAINT_TYPE = 'CHECK'
ORDER BY t.TABLE_NAME, c.CONSTRAINT_NAME
