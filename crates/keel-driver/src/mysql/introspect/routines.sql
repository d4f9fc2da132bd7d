-- Stored functions and procedures of the current database, as the parts of the statement that
-- creates them: the definer is left out (a shadow database's routines have the migration
-- user's). The parameter list is rebuilt from information_schema.PARAMETERS in order (for a
-- function, position 0 is its return type and is left out here).
SELECT
    CAST(r.ROUTINE_NAME AS CHAR) AS routine_name,
    CAST(r.ROUTINE_TYPE AS CHAR) AS routine_type,
    CAST(r.DTD_IDENTIFIER AS CHAR) AS returns_type,
    CAST(r.IS_DETERMINISTIC AS CHAR) AS is_deterministic,
    CAST(r.SQL_DATA_ACCESS AS CHAR) AS sql_data_access,
    CAST(r.SECURITY_TYPE AS CHAR) AS security_type,
    CAST(r.ROUTINE_COMMENT AS CHAR) AS routine_comment,
    CAST(r.ROUTINE_DEFINITION AS CHAR) AS routine_definition,
    CAST((
        SELECT GROUP_CONCAT(
                   CONCAT_WS(' ',
                       IF(r.ROUTINE_TYPE = 'PROCEDURE', p.PARAMETER_MODE, NULL),
                       CONCAT('`', REPLACE(p.PARAMETER_NAME, '`', '``'), '`'),
                       p.DTD_IDENTIFIER)
                   ORDER BY p.ORDINAL_POSITION SEPARATOR ', ')
        FROM information_schema.PARAMETERS p
        WHERE p.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA
          AND p.SPECIFIC_NAME = r.ROUTINE_NAME
          AND p.ROUTINE_TYPE = r.ROUTINE_TYPE
          AND p.ORDINAL_POSITION > 0
    ) AS CHAR) AS parameters
FROM information_schema.ROUTINES r
WHERE r.ROUTINE_SCHEMA = DATABASE()
ORDER BY r.ROUTINE_NAME, r.ROUTINE_TYPE
