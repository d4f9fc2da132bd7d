-- Triggers of `main` with their table and the CREATE TRIGGER statement as written.
SELECT name, tbl_name, sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY tbl_name, name
