-- Columns of those tables in declaration order; hidden 2 = generated virtual, 3 = generated
-- stored.
WITH tables AS (
    SELECT tl.name AS name
    FROM pragma_table_list AS tl
    WHERE tl.schema = 'main'
      AND tl.type = 'table'
      AND tl.name NOT LIKE 'sqlite\_%' ESCAPE '\'
      AND tl.name NOT IN (?1, ?2)
)
SELECT t.name AS table_name, c.name AS name, c.type AS type, c."notnull" AS not_null,
       c.dflt_value AS dflt_value, c.pk AS pk, c.hidden AS hidden
FROM tables AS t
JOIN pragma_table_xinfo(t.name, 'main') AS c
ORDER BY t.name, c.cid
