-- Views of the current database with their definition as the server prints it.
SELECT
    CAST(TABLE_NAME AS CHAR) AS table_name,
    CAST(VIEW_DEFINITION AS CHAR) AS view_definition
FROM information_schema.VIEWS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME
