-- Columns of the tables $1: one row per table, one array element per column. The arrays of a
-- row are filled from the same input rows in the same order, so element i of each describes
-- one column (in no particular order: the client sorts by `attnums`). A row per table rather
-- than per column: the client's cost is per row, and this is the largest result by far.
-- `default_expr`: a default cannot refer to a column, so it is printed with relid 0, which
-- spares pg_get_expr opening every table (a relcache build each, the bulk of the time on a
-- cold connection), and not pretty-printed, as information_schema.columns shows it. A generated
-- column's expression does refer to columns: printed against its table, pretty like checks.
-- `serial`: the default is exactly nextval('<seq>'::regclass) of a sequence owned by this column
-- (pg_depend deptype 'a', what `serial` and `ALTER SEQUENCE … OWNED BY` record), printed with
-- the same regclass output as pg_get_expr uses, so quoting and schema-qualification agree.
-- `collation`: only when it differs from the type's default collation.
WITH tables AS (
    SELECT r.oid FROM unnest($1::oid[]) AS r(oid)
),
owned AS (
    SELECT o.refobjid AS table_oid,
           o.refobjsubid AS attnum,
           array_agg(pg_catalog.format('nextval(%L::regclass)', s.oid::regclass::text)) AS nextvals
    FROM tables
    JOIN pg_catalog.pg_depend o
      ON o.refclassid = 'pg_catalog.pg_class'::regclass AND o.refobjid = tables.oid
     AND o.classid = 'pg_catalog.pg_class'::regclass AND o.deptype = 'a'
    JOIN pg_catalog.pg_class s ON s.oid = o.objid AND s.relkind = 'S'
    GROUP BY o.refobjid, o.refobjsubid
),
columns AS (
    SELECT a.attrelid AS table_oid,
           a.attnum,
           a.attname::text AS name,
           pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
           a.attnotnull AS not_null,
           a.attidentity::text AS identity,
           a.attgenerated::text AS generated,
           CASE WHEN a.attgenerated = ''
                THEN pg_catalog.pg_get_expr(ad.adbin, 0)
                ELSE pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) END AS default_expr,
           co.collname::text AS collation,
           d.description AS comment
    FROM tables
    JOIN pg_catalog.pg_attribute a ON a.attrelid = tables.oid
    JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    LEFT JOIN pg_catalog.pg_collation co
           ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
    LEFT JOIN pg_catalog.pg_description d
           ON d.classoid = 'pg_catalog.pg_class'::regclass AND d.objoid = a.attrelid
          AND d.objsubid = a.attnum
    WHERE a.attnum > 0
      AND NOT a.attisdropped
)
SELECT c.table_oid,
       array_agg(c.attnum) AS attnums,
       array_agg(c.name) AS names,
       array_agg(c.data_type) AS data_types,
       array_agg(c.not_null) AS not_null,
       array_agg(c.identity) AS identity,
       array_agg(c.generated) AS generated,
       array_agg(c.default_expr) AS default_exprs,
       array_agg(c.collation) AS collations,
       array_agg(c.comment) AS comments,
       array_agg(coalesce(c.generated = '' AND c.default_expr = ANY (owned.nextvals), false))
           AS serial
FROM columns c
LEFT JOIN owned ON owned.table_oid = c.table_oid AND owned.attnum = c.attnum
GROUP BY c.table_oid
