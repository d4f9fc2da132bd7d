-- Check constraints of the current database, on MariaDB, whose CHECK_CONSTRAINTS names the
-- table (constraint names are unique per table there, not per database).
SELECT
    CAST(TABLE_NAME AS CHAR) AS table_name,
    CAST(CONSTRAINT_NAME AS CHAR) AS constraint_name,
    CAST(CHECK_CLAUSE AS CHAR) AS check_clause
FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, CONSTRAINT_NAME
