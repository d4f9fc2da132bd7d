-- Triggers of the current database, as the parts of the statement that creates them: the
-- definer is left out (a shadow database's triggers have the migration user's), triggers of
-- one table and event in their firing order (ACTION_ORDER).
SELECT
    CAST(TRIGGER_NAME AS CHAR) AS trigger_name,
    CAST(EVENT_OBJECT_TABLE AS CHAR) AS table_name,
    CAST(ACTION_TIMING AS CHAR) AS action_timing,
    CAST(EVENT_MANIPULATION AS CHAR) AS event_manipulation,
    CAST(ACTION_STATEMENT AS CHAR) AS action_statement
FROM information_schema.TRIGGERS
WHERE TRIGGER_SCHEMA = DATABASE()
ORDER BY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER, TRIGGER_NAME
