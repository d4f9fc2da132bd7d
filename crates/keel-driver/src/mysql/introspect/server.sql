-- What the server is and which catalog columns it has: MariaDB quotes string defaults and
-- names the table of a check constraint; MySQL 8 has expression indexes; MySQL 5.7 has no
-- CHECK_CONSTRAINTS at all.
SELECT
    CAST(VERSION() AS CHAR) AS version,
    CAST(DATABASE() AS CHAR) AS db,
    (SELECT COUNT(*) FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'STATISTICS'
        AND COLUMN_NAME = 'EXPRESSION') AS has_index_expressions,
    (SELECT COUNT(*) FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'CHECK_CONSTRAINTS') AS has_checks,
    (SELECT COUNT(*) FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'CHECK_CONSTRAINTS'
        AND COLUMN_NAME = 'TABLE_NAME') AS checks_have_table
