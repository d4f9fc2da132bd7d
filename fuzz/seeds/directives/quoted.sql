-- keel:statement-timeout="2"
SELECT 1;
