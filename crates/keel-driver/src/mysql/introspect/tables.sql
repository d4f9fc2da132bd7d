-- Base tables of the current database (MariaDB's system-versioned ones included), without
-- the ledger tables (?, ?).
SELECT
    CAST(TABLE_NAME AS CHAR) AS table_name,
    CAST(TABLE_COMMENT AS CHAR) AS table_comment,
    CAST(TABLE_COLLATION AS CHAR) AS table_collation,
    CAST(ENGINE AS CHAR) AS engine
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE()
  AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
  AND TABLE_NAME NOT IN (?, ?)
ORDER BY TABLE_NAME
