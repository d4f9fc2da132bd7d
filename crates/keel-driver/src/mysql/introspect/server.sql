-- What the server is and which catalog columns it has: MariaDB quotes string defaults and
-- names the table of a check constraint; MySQL 8 has expression indexes; MySQL 5.7 has no
-- CHECK_CONSTRAINTS at all. Then the defaults a table's engine and collation are relative to.
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
        AND COLUMN_NAME = 'TABLE_NAME') AS checks_have_table,
    CAST(@@default_storage_engine AS CHAR) AS default_engine,
    (SELECT CAST(DEFAULT_COLLATION_NAME AS CHAR) FROM information_schema.SCHEMATA
      WHERE SCHEMA_NAME = DATABASE()) AS default_collation
