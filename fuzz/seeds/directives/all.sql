-- keel:no-transaction
-- keel:lock-timeout=500ms
-- keel:statement-timeout=10min
-- keel:allow pg/add-column-default reason="small table"
CREATE INDEX CONCURRENTLY i ON t (a);
