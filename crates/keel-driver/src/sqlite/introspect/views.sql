-- Views of `main` with their CREATE VIEW statement.
SELECT name, sql FROM sqlite_schema WHERE type = 'view' ORDER BY name
