-- Event triggers of the database that belong to no extension: the statement that creates each
-- (tags sorted; the function as regproc prints it, unqualified when visible) and its state
-- (evtenabled: O enabled, D disabled, R replica, A always).
SELECT e.evtname::text AS name,
       'CREATE EVENT TRIGGER ' || quote_ident(e.evtname) || ' ON ' || quote_ident(e.evtevent)
       || CASE WHEN e.evttags IS NOT NULL
               THEN ' WHEN TAG IN (' || (SELECT string_agg(quote_literal(t), ', ' ORDER BY t)
                                         FROM unnest(e.evttags) AS t) || ')'
               ELSE '' END
       || ' EXECUTE FUNCTION ' || e.evtfoid::regproc::text || '()' AS definition,
       e.evtenabled::text AS enabled
FROM pg_catalog.pg_event_trigger e
WHERE NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend d
        WHERE d.classid = 'pg_catalog.pg_event_trigger'::regclass AND d.objid = e.oid
          AND d.deptype = 'e')
ORDER BY 1
