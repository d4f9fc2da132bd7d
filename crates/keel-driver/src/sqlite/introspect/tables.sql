-- Ordinary tables of `main` (not virtual tables, their shadow tables, sqlite_* tables or the
-- ledger tables ?1, ?2), with their CREATE statement and whether they are WITHOUT ROWID and
-- STRICT.
SELECT tl.name AS name, tl.wr AS without_rowid, m.sql AS sql, tl.strict AS strict
FROM pragma_table_list AS tl
JOIN sqlite_schema AS m ON m.type = 'table' AND m.name = tl.name
WHERE tl.schema = 'main'
  AND tl.type = 'table'
  AND tl.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND tl.name NOT IN (?1, ?2)
ORDER BY tl.name
