-- Foreign-key columns of those tables; `to` is NULL when the key references the parent's
-- primary key implicitly (`REFERENCES parent`).
WITH tables AS (
    SELECT tl.name AS name
    FROM pragma_table_list AS tl
    WHERE tl.schema = 'main'
      AND tl.type = 'table'
      AND tl.name NOT LIKE 'sqlite\_%' ESCAPE '\'
      AND tl.name NOT IN (?1, ?2)
)
SELECT t.name AS table_name, fk.id AS id, fk.seq AS seq, fk."table" AS referenced_table,
       fk."from" AS column_name, fk."to" AS referenced_column, fk.on_update AS on_update,
       fk.on_delete AS on_delete
FROM tables AS t
JOIN pragma_foreign_key_list(t.name, 'main') AS fk
ORDER BY t.name, fk.id DESC, fk.seq
