//! The rest of the whole schema (issue #15): MySQL fulltext and spatial indexes and table
//! options, PostgreSQL exclusion constraints, materialized-view indexes, domains and
//! composite types — read, compared and recreated on the real servers (apply diff(A, B) to
//! A, introspect, get B), and a hand change of each found and reverted.
#![allow(clippy::unwrap_used)]

use keel_core::schema::diff::diff;
use keel_core::schema::plan::Change;
use keel_core::schema::Schema;
use keel_core::Dialect;
use keel_test_support::{Backend, TestDb};

mod common;
use common::{apply_and_compare, index, introspect};

/// `ddl` run on a fresh database and introspected; that schema is then built on an empty
/// database from the model alone and dropped again. Gives the first database and its schema.
async fn recreated(backend: Backend, dialect: Dialect, ddl: &str) -> (TestDb, Schema) {
    let db = TestDb::new(backend).await;
    db.execute(ddl).await;
    let s = introspect(&db).await;
    let empty = TestDb::new(backend).await;
    let base = introspect(&empty).await;
    apply_and_compare(&empty, dialect, &base, &s).await;
    apply_and_compare(&empty, dialect, &s, &base).await;
    (db, s)
}

/// A hand change `sql` on `db`, whose schema was `s`, is drift of the change kinds `kinds`;
/// the plan back to `s`, applied, removes it.
async fn drift_reverted(db: &TestDb, dialect: Dialect, s: &Schema, sql: &str, kinds: &[&str]) {
    db.execute(sql).await;
    let changed = introspect(db).await;
    let plan = diff(dialect, &changed, s);
    let found: Vec<&str> = plan.changes.iter().map(Change::kind).collect();
    assert_eq!(found, kinds, "after {sql}");
    apply_and_compare(db, dialect, &changed, s).await;
}

#[tokio::test]
async fn mysql_fulltext_and_spatial_indexes_are_read_and_recreated() {
    let (db, s) = recreated(
        Backend::Mysql,
        Dialect::Mysql,
        "CREATE TABLE doc (id INT PRIMARY KEY, title VARCHAR(200) NOT NULL, body TEXT, spot POINT NOT NULL,
           FULLTEXT KEY doc_text (title, body), SPATIAL KEY doc_spot (spot)) ENGINE=InnoDB;
         CREATE FULLTEXT INDEX doc_title ON doc (title);",
    )
    .await;
    assert_eq!(index(&s, "doc_text").method.as_deref(), Some("FULLTEXT"));
    assert_eq!(index(&s, "doc_spot").method.as_deref(), Some("SPATIAL"));
    // MariaDB's SUB_PART of 32 on a spatial key is not a prefix a definition can state.
    assert_eq!(index(&s, "doc_spot").columns[0].option, None);
    drift_reverted(
        &db,
        Dialect::Mysql,
        &s,
        "DROP INDEX doc_text ON doc; CREATE INDEX doc_text ON doc (title)",
        &["drop_index", "create_index"],
    )
    .await;
    drift_reverted(
        &db,
        Dialect::Mysql,
        &s,
        "DROP INDEX doc_spot ON doc",
        &["create_index"],
    )
    .await;
}

#[tokio::test]
async fn mysql_table_engine_and_collation_are_read_and_recreated() {
    let (db, s) = recreated(
        Backend::Mysql,
        Dialect::Mysql,
        "CREATE TABLE plain (id INT PRIMARY KEY, name VARCHAR(50));
         CREATE TABLE legacy (id INT PRIMARY KEY, name VARCHAR(50)) ENGINE=MyISAM;
         CREATE TABLE binned (id INT PRIMARY KEY, name VARCHAR(50), code VARCHAR(10) COLLATE latin1_bin)
           DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;",
    )
    .await;
    let t = |name: &str| &s.tables[s.table_id(None, name).unwrap().idx()];
    assert_eq!(t("plain").engine, None, "the server's default engine");
    assert_eq!(
        t("plain").collation,
        None,
        "the database's default collation"
    );
    assert_eq!(t("legacy").engine.as_deref(), Some("MyISAM"));
    assert_eq!(t("binned").collation.as_deref(), Some("utf8mb4_bin"));
    assert!(s.default_collation.is_some() && s.default_engine.is_some());
    // A table converted by hand (utf8 to latin1, a classic) and an engine changed: both
    // are drift, and the plan converts back, keeping a column's own collation.
    drift_reverted(
        &db,
        Dialect::Mysql,
        &s,
        "ALTER TABLE binned CONVERT TO CHARACTER SET latin1 COLLATE latin1_swedish_ci; ALTER TABLE legacy ENGINE=InnoDB",
        // `code` kept its own latin1_bin no longer: the conversion rewrote it.
        &["alter_column", "alter_table_options", "alter_table_options"],
    )
    .await;
    let mut other = s.clone();
    let plain = other.table_id(None, "plain").unwrap();
    other.tables[plain.idx()].collation = Some("latin1_swedish_ci".into());
    let summary = keel_core::schema::summary::summarize(&diff(Dialect::Mysql, &s, &other));
    assert_eq!(
        summary,
        [format!(
            "changed the table options of `plain`: collation {} -> latin1_swedish_ci",
            s.default_collation.as_deref().unwrap()
        )]
    );
}

/// A history replayed in a database whose default collation differs from production's:
/// the tables it created without naming one follow each database's default, and that is
/// not drift; one created with the other database's default named is not either.
#[tokio::test]
async fn mysql_databases_with_different_defaults_compare_by_effect() {
    let ddl = "CREATE TABLE a (id INT PRIMARY KEY, s VARCHAR(5));
               CREATE TABLE b (id INT PRIMARY KEY, s VARCHAR(5)) COLLATE=utf8mb4_unicode_ci;";
    let one = TestDb::new(Backend::Mysql).await;
    one.execute("ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
        .await;
    one.execute(ddl).await;
    let two = TestDb::new(Backend::Mysql).await;
    two.execute("ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        .await;
    two.execute(ddl).await;
    let (x, y) = (introspect(&one).await, introspect(&two).await);
    assert_ne!(x.default_collation, y.default_collation);
    let plan = diff(Dialect::Mysql, &x, &y);
    assert!(
        plan.is_empty(),
        "{:?}",
        keel_core::schema::summary::summarize(&plan)
    );
}

#[tokio::test]
async fn postgres_materialized_view_indexes_are_read_and_recreated() {
    let (db, s) = recreated(
        Backend::Postgres,
        Dialect::Postgres,
        "CREATE SCHEMA rep;
         CREATE TABLE t (id int PRIMARY KEY, v text);
         CREATE MATERIALIZED VIEW mv AS SELECT id, v FROM t;
         CREATE UNIQUE INDEX mv_id ON mv (id);
         CREATE INDEX \"mv Lower\" ON mv USING hash (lower(v)) WHERE id > 0;
         CREATE MATERIALIZED VIEW rep.totals AS SELECT count(*) AS n FROM t;
         CREATE INDEX totals_n ON rep.totals (n);",
    )
    .await;
    let mv = s.views.iter().find(|v| v.name == "mv").unwrap();
    let defs: Vec<(&str, bool, &str)> = mv
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), i.unique, i.definition.as_str()))
        .collect();
    assert_eq!(
        defs,
        [
            ("mv Lower", false, "USING hash (lower(v)) WHERE (id > 0)"),
            ("mv_id", true, "USING btree (id)"),
        ]
    );
    let totals = s.views.iter().find(|v| v.name == "totals").unwrap();
    assert_eq!(totals.indexes[0].definition, "USING btree (n)");
    // The unique index REFRESH … CONCURRENTLY needs, dropped by hand; one added.
    drift_reverted(
        &db,
        Dialect::Postgres,
        &s,
        "DROP INDEX mv_id; CREATE INDEX extra ON mv (v)",
        &["drop_view_index", "create_view_index"],
    )
    .await;
    // A changed index is made again, the view itself left alone.
    drift_reverted(
        &db,
        Dialect::Postgres,
        &s,
        "DROP INDEX rep.totals_n; CREATE INDEX totals_n ON rep.totals (n DESC)",
        &["drop_view_index", "create_view_index"],
    )
    .await;
}

#[tokio::test]
async fn postgres_exclusion_constraints_are_read_and_recreated() {
    let (db, s) = recreated(
        Backend::Postgres,
        Dialect::Postgres,
        "CREATE TABLE booking (id int PRIMARY KEY, room int NOT NULL, during tsrange NOT NULL, cancelled boolean NOT NULL DEFAULT false,
           CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&) WHERE (NOT cancelled) DEFERRABLE INITIALLY DEFERRED,
           CHECK (room > 0));",
    )
    .await;
    let x = s.checks.iter().find(|c| c.is_exclusion()).unwrap();
    assert_eq!(x.name.as_deref(), Some("no_overlap"));
    assert_eq!(
        x.expression,
        "EXCLUDE USING gist (during WITH &&) WHERE (NOT cancelled) DEFERRABLE INITIALLY DEFERRED"
    );
    assert_eq!(s.checks.iter().filter(|c| !c.is_exclusion()).count(), 1);
    assert!(
        s.indexes.is_empty(),
        "the constraint's index is the constraint's"
    );
    drift_reverted(
        &db,
        Dialect::Postgres,
        &s,
        "ALTER TABLE booking DROP CONSTRAINT no_overlap",
        &["add_check"],
    )
    .await;
    drift_reverted(
        &db,
        Dialect::Postgres,
        &s,
        "ALTER TABLE booking DROP CONSTRAINT no_overlap, ADD CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&)",
        &["drop_check", "add_check"],
    )
    .await;
    let summary = keel_core::schema::summary::summarize(&diff(
        Dialect::Postgres,
        &s,
        &Schema {
            checks: s
                .checks
                .iter()
                .filter(|c| !c.is_exclusion())
                .cloned()
                .collect(),
            ..s.clone()
        },
    ));
    assert!(
        summary[0].starts_with("dropped exclusion constraint `no_overlap` on `booking`"),
        "{summary:?}"
    );
}

#[tokio::test]
async fn postgres_domains_and_composite_types_are_read_and_recreated() {
    let (db, s) = recreated(
        Backend::Postgres,
        Dialect::Postgres,
        "CREATE SCHEMA geo;
         CREATE TYPE mood AS ENUM ('ok', 'sad');
         CREATE DOMAIN positive AS integer NOT NULL DEFAULT 1 CONSTRAINT positive_check CHECK (VALUE > 0);
         CREATE DOMAIN label AS text COLLATE \"C\" CHECK (length(VALUE) < 20) CHECK (VALUE <> '');
         CREATE DOMAIN feeling AS mood;
         CREATE TYPE geo.point2 AS (x double precision, y double precision);
         CREATE TYPE place AS (name label, at geo.point2, n positive);
         CREATE TABLE item (id int PRIMARY KEY, qty positive, tag label, where_ place, f feeling);",
    )
    .await;
    let defs: Vec<(&str, bool, &str)> = s
        .types
        .iter()
        .map(|t| (t.name.as_str(), t.composite, t.definition.as_str()))
        .collect();
    assert_eq!(
        defs,
        [
            ("positive", false, "AS integer DEFAULT 1 NOT NULL CONSTRAINT positive_check CHECK (VALUE > 0)"),
            ("label", false, "AS text COLLATE \"C\" CONSTRAINT label_check CHECK (length(VALUE) < 20) CONSTRAINT label_check1 CHECK (VALUE <> ''::text)"),
            ("feeling", false, "AS mood"),
            ("point2", true, "AS (x double precision, y double precision)"),
            ("place", true, "AS (name label, at geo.point2, n positive)"),
        ]
    );
    assert_eq!(s.types[3].namespace.as_deref(), Some("geo"));
    // Added by hand, and one changed: the first is dropped by the revert; the second is
    // named, and the plan refuses to guess the ALTER DOMAIN.
    drift_reverted(
        &db,
        Dialect::Postgres,
        &s,
        "CREATE DOMAIN extra AS text; CREATE TYPE pair AS (a int, b int)",
        &["drop_type", "drop_type"],
    )
    .await;
    db.execute("ALTER DOMAIN positive DROP CONSTRAINT positive_check")
        .await;
    let changed = introspect(&db).await;
    let plan = diff(Dialect::Postgres, &changed, &s);
    let kinds: Vec<&str> = plan.changes.iter().map(Change::kind).collect();
    assert_eq!(kinds, ["alter_type"]);
    let err = keel_core::schema::render::render(&plan).unwrap_err();
    assert!(err.to_string().contains("domain `positive`"), "{err}");
    // A domain that became a composite type of the same name is one change too (a create
    // and a drop of one name would collide).
    let mut other = s.clone();
    other.types[0].composite = true;
    let kinds: Vec<&str> = diff(Dialect::Postgres, &s, &other)
        .changes
        .iter()
        .map(Change::kind)
        .collect();
    assert_eq!(kinds, ["alter_type"]);
}

#[tokio::test]
async fn mysql_events_are_read_and_recreated() {
    let (db, s) = recreated(
        Backend::Mysql,
        Dialect::Mysql,
        "CREATE TABLE log (id INT PRIMARY KEY, at DATETIME);
         CREATE EVENT purge_old ON SCHEDULE EVERY 1 DAY ON COMPLETION PRESERVE DISABLE COMMENT 'old rows' DO DELETE FROM log WHERE at < NOW() - INTERVAL 30 DAY;
         CREATE EVENT later ON SCHEDULE AT '2037-01-01 00:00:00' DO DELETE FROM log;",
    )
    .await;
    let defs: Vec<&str> = s.events.iter().map(|e| e.definition.as_str()).collect();
    assert_eq!(
        defs,
        [
            "CREATE EVENT `later` ON SCHEDULE AT '2037-01-01 00:00:00' ON COMPLETION NOT PRESERVE ENABLE DO DELETE FROM log",
            "CREATE EVENT `purge_old` ON SCHEDULE EVERY '1' DAY ON COMPLETION PRESERVE DISABLE COMMENT 'old rows' DO DELETE FROM log WHERE at < NOW() - INTERVAL 30 DAY",
        ]
    );
    drift_reverted(
        &db,
        Dialect::Mysql,
        &s,
        "ALTER EVENT purge_old ENABLE; CREATE EVENT extra ON SCHEDULE EVERY 1 HOUR DO SELECT 1",
        &["drop_event", "drop_event", "create_event"],
    )
    .await;
}

#[tokio::test]
async fn postgres_event_triggers_are_read_and_recreated() {
    let (db, s) = recreated(
        Backend::Postgres,
        Dialect::Postgres,
        "CREATE FUNCTION no_drops() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'ddl'; END; $$;
         CREATE EVENT TRIGGER keel_test_guard ON ddl_command_start WHEN TAG IN ('DROP TABLE', 'ALTER TABLE') EXECUTE FUNCTION no_drops();
         ALTER EVENT TRIGGER keel_test_guard DISABLE;",
    )
    .await;
    // Event triggers are the database's; another test's database has its own.
    let e = s
        .events
        .iter()
        .find(|e| e.name == "keel_test_guard")
        .unwrap();
    assert_eq!(
        e.definition,
        "CREATE EVENT TRIGGER keel_test_guard ON ddl_command_start WHEN TAG IN ('ALTER TABLE', 'DROP TABLE') EXECUTE FUNCTION no_drops()"
    );
    assert_eq!(e.state.as_deref(), Some("DISABLE"));
    drift_reverted(
        &db,
        Dialect::Postgres,
        &s,
        "ALTER EVENT TRIGGER keel_test_guard ENABLE",
        &["drop_event", "create_event"],
    )
    .await;
}

#[tokio::test]
async fn sqlite_deferrable_foreign_keys_are_read_and_recreated() {
    let (db, s) = recreated(
        Backend::Sqlite,
        Dialect::Sqlite,
        "CREATE TABLE p (id INTEGER PRIMARY KEY);
         CREATE TABLE c (id INTEGER PRIMARY KEY, a INT REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED, b INT REFERENCES p(id));",
    )
    .await;
    let mut deferrable: Vec<Option<bool>> = s.foreign_keys.iter().map(|f| f.deferrable).collect();
    deferrable.sort();
    assert_eq!(deferrable, [None, Some(true)]);
    // Made immediate by a hand rebuild: drift, and the plan rebuilds the table back.
    drift_reverted(
        &db,
        Dialect::Sqlite,
        &s,
        "PRAGMA foreign_keys=OFF; CREATE TABLE c2 (id INTEGER PRIMARY KEY, a INT REFERENCES p(id), b INT REFERENCES p(id)); INSERT INTO c2 SELECT * FROM c; DROP TABLE c; ALTER TABLE c2 RENAME TO c; PRAGMA foreign_keys=ON;",
        &["redefine_table"],
    )
    .await;
}
