-- Operator classes that are not the default for their type and access method: an index key
-- with one of these names it (`gin_trgm_ops`, `text_pattern_ops`, `jsonb_path_ops`).
SELECT opc.oid, opc.opcname::text AS name
FROM pg_catalog.pg_opclass opc
WHERE NOT opc.opcdefault
