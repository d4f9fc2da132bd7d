-- Events of the current database, as the parts of the statement that creates them (the
-- definer left out, as for routines).
SELECT
    CAST(EVENT_NAME AS CHAR) AS event_name,
    CAST(EVENT_TYPE AS CHAR) AS event_type,
    CAST(EXECUTE_AT AS CHAR) AS execute_at,
    CAST(INTERVAL_VALUE AS CHAR) AS interval_value,
    CAST(INTERVAL_FIELD AS CHAR) AS interval_field,
    CAST(ENDS AS CHAR) AS ends,
    CAST(STATUS AS CHAR) AS status,
    CAST(ON_COMPLETION AS CHAR) AS on_completion,
    CAST(EVENT_COMMENT AS CHAR) AS event_comment,
    CAST(EVENT_DEFINITION AS CHAR) AS event_definition
FROM information_schema.EVENTS
WHERE EVENT_SCHEMA = DATABASE()
ORDER BY EVENT_NAME
