//! Functions and triggers are part of what keel compares (issue #15): a body replaced by
//! hand, a trigger disabled, added or dropped is drift; `keel drift --revert` undoes it; a
//! history that creates them shows no drift (the shadow's replay reads the same definitions).
#![allow(clippy::unwrap_used)]

use keel_test_support::{keel, output_text, write_migration, Backend, TestDb};

fn run(dir: &std::path::Path, url: &str, args: &[&str]) -> (i32, String) {
    let o = keel(dir, url).args(args).output().unwrap();
    (o.status.code().unwrap_or(-1), output_text(&o))
}

/// `name` with `sql` written and deployed, and no drift after it.
fn deployed_clean(dir: &std::path::Path, url: &str, name: &str, sql: &str) {
    write_migration(&dir.join("migrations"), name, sql);
    let (rc, out) = run(dir, url, &["deploy"]);
    assert_eq!(rc, 0, "{out}");
    let (rc, out) = run(dir, url, &["drift"]);
    assert_eq!(rc, 0, "a clean deploy shows no drift: {out}");
}

/// Drift naming each of `expected`; `drift --revert --yes` removes it.
fn drift_reverted(dir: &std::path::Path, url: &str, expected: &[&str]) {
    let (rc, out) = run(dir, url, &["drift"]);
    assert_eq!(rc, 2, "{out}");
    for e in expected {
        assert!(out.contains(e), "{e} not in {out}");
    }
    let (rc, out) = run(dir, url, &["drift", "--revert", "--yes"]);
    assert_eq!(rc, 0, "{out}");
    let (rc, out) = run(dir, url, &["drift"]);
    assert_eq!(rc, 0, "{out}");
}

const PG_HISTORY: &str = r#"CREATE TABLE item (id serial PRIMARY KEY, updated timestamptz);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated := now();
  RETURN NEW;
END;
$$;
CREATE TRIGGER item_touch BEFORE UPDATE ON item FOR EACH ROW EXECUTE FUNCTION touch();
"#;

#[tokio::test]
async fn postgres_function_and_trigger_drift_is_seen_and_reverted() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write_migration(&dir.join("migrations"), "1_item", PG_HISTORY);
    let (rc, out) = run(dir, &db.url, &["deploy"]);
    assert_eq!(rc, 0, "{out}");
    let (rc, out) = run(dir, &db.url, &["drift"]);
    assert_eq!(rc, 0, "a clean deploy shows no drift: {out}");
    let (rc, out) = run(dir, &db.url, &["inspect"]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("CREATE OR REPLACE FUNCTION touch()"), "{out}");
    assert!(
        out.contains("CREATE TRIGGER item_touch BEFORE UPDATE ON"),
        "{out}"
    );

    // A body replaced by hand.
    db.execute("CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$").await;
    let (rc, out) = run(dir, &db.url, &["drift"]);
    assert_eq!(rc, 2, "{out}");
    assert!(
        out.contains("replaced the definition of function `touch()`"),
        "{out}"
    );
    let (rc, out) = run(dir, &db.url, &["drift", "--revert", "--yes"]);
    assert_eq!(rc, 0, "{out}");
    let (rc, out) = run(dir, &db.url, &["drift"]);
    assert_eq!(rc, 0, "{out}");
    let body: i64 = db
        .scalar("SELECT COUNT(*) FROM pg_proc WHERE proname = 'touch' AND prosrc LIKE '%now()%'")
        .await;
    assert_eq!(body, 1, "the history's body is back");

    // A trigger disabled, another added, by hand.
    db.execute("ALTER TABLE item DISABLE TRIGGER item_touch")
        .await;
    db.execute(
        "CREATE TRIGGER item_again AFTER INSERT ON item FOR EACH ROW EXECUTE FUNCTION touch()",
    )
    .await;
    let (rc, out) = run(dir, &db.url, &["drift"]);
    assert_eq!(rc, 2, "{out}");
    assert!(
        out.contains("trigger `item_touch` on `item` is now disabled"),
        "{out}"
    );
    assert!(out.contains("item_again"), "{out}");
    let (rc, out) = run(dir, &db.url, &["drift", "--revert", "--yes"]);
    assert_eq!(rc, 0, "{out}");
    let (rc, out) = run(dir, &db.url, &["drift"]);
    assert_eq!(rc, 0, "{out}");

    // Row-level security turned on and a policy added by hand (a Supabase dashboard does it).
    db.execute("ALTER TABLE item ENABLE ROW LEVEL SECURITY")
        .await;
    db.execute("CREATE POLICY item_read ON item FOR SELECT USING (true)")
        .await;
    let (rc, out) = run(dir, &db.url, &["drift"]);
    assert_eq!(rc, 2, "{out}");
    assert!(
        out.contains("row-level security of `item` is now enabled"),
        "{out}"
    );
    assert!(out.contains("added policy `item_read` on `item`"), "{out}");
    let (rc, out) = run(dir, &db.url, &["drift", "--revert", "--yes"]);
    assert_eq!(rc, 0, "{out}");
    let (rc, out) = run(dir, &db.url, &["drift"]);
    assert_eq!(rc, 0, "{out}");

    // Dropped by hand: recorded into the history instead.
    db.execute("DROP TRIGGER item_touch ON item").await;
    let (rc, out) = run(dir, &db.url, &["drift", "--record", "drop_touch"]);
    assert_eq!(rc, 0, "{out}");
    let (rc, out) = run(dir, &db.url, &["drift"]);
    assert_eq!(rc, 0, "{out}");
}

#[tokio::test]
async fn sqlite_trigger_drift_is_seen_and_reverted() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    deployed_clean(
        dir,
        &db.url,
        "1_item",
        "CREATE TABLE item (id INTEGER PRIMARY KEY, n INTEGER, seen TEXT);\nCREATE TRIGGER item_seen AFTER UPDATE OF n ON item\nBEGIN\n  UPDATE item SET seen = 'yes' WHERE id = NEW.id;\nEND;\n",
    );
    db.execute("CREATE TRIGGER by_hand AFTER INSERT ON item BEGIN SELECT 1; END")
        .await;
    drift_reverted(dir, &db.url, &["added trigger `by_hand` on `item`"]);
}

#[tokio::test]
async fn mysql_trigger_drift_is_seen_and_reverted() {
    let db = TestDb::new(Backend::Mysql).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    deployed_clean(
        dir,
        &db.url,
        "1_item",
        "CREATE TABLE item (id INT PRIMARY KEY, n INT);\nCREATE TRIGGER item_floor BEFORE UPDATE ON item FOR EACH ROW\nBEGIN\n  IF NEW.n < 0 THEN\n    SET NEW.n = 0;\n  END IF;\nEND;\n",
    );
    db.execute("CREATE TRIGGER by_hand BEFORE INSERT ON item FOR EACH ROW SET NEW.n = 1")
        .await;
    db.execute("DROP TRIGGER item_floor").await;
    drift_reverted(
        dir,
        &db.url,
        &[
            "added trigger `by_hand` on `item`",
            "dropped trigger `item_floor` on `item`",
        ],
    );
}

#[tokio::test]
async fn postgres_partition_drift_is_seen_and_reverted() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    deployed_clean(
        dir,
        &db.url,
        "1_events",
        "CREATE TABLE events (id bigserial, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);\nCREATE INDEX events_at ON events (at);\nCREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\nINSERT INTO events (at) VALUES ('2026-03-01');\n",
    );
    let (rc, out) = run(dir, &db.url, &["inspect"]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains(") PARTITION BY RANGE (at)"), "{out}");
    assert!(
        out.contains(
            "ATTACH PARTITION \"events_2026\" FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
        ),
        "{out}"
    );
    // Detached by hand (to archive it, say): drift, and the revert attaches it again with its
    // rows.
    db.execute("ALTER TABLE events DETACH PARTITION events_2026")
        .await;
    drift_reverted(
        dir,
        &db.url,
        &["detached partition `events_2026` from `events`"],
    );
    assert_eq!(db.scalar("SELECT count(*) FROM events").await, 1);
    // A partition added by hand is drift too; the revert drops it (its rows counted first).
    db.execute("CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')")
        .await;
    drift_reverted(dir, &db.url, &["events_2027"]);
}

#[tokio::test]
async fn lint_sees_a_function_dropped_under_its_callers() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write_migration(
        &dir.join("migrations"),
        "1_orders",
        "CREATE FUNCTION next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'c' || floor(random() * 1000)::text $$;\nCREATE TABLE orders (id serial PRIMARY KEY, code text NOT NULL DEFAULT next_code());\n",
    );
    let (rc, out) = run(dir, &db.url, &["deploy"]);
    assert_eq!(rc, 0, "{out}");
    // The default goes with the function, silently: the next insert fails on NOT NULL.
    write_migration(
        &dir.join("migrations"),
        "2_drop",
        "DROP FUNCTION next_code() CASCADE;\n",
    );
    let (rc, out) = run(dir, &db.url, &["lint"]);
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains("error[drop-function-in-use]: drops function `next_code()` with CASCADE, which drops the default of `orders.code` too"),
        "{out}"
    );
}

#[tokio::test]
async fn mysql_routine_drift_is_seen_and_reverted() {
    let db = TestDb::new(Backend::Mysql).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    deployed_clean(
        dir,
        &db.url,
        "1_codes",
        "CREATE TABLE codes (id INT PRIMARY KEY, n INT NOT NULL DEFAULT 0);\nCREATE FUNCTION next_n(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;\nCREATE PROCEDURE bump() BEGIN UPDATE codes SET n = next_n(n); END;\n",
    );
    // Replaced and added by hand.
    db.execute("DROP FUNCTION next_n; CREATE FUNCTION next_n(x INT) RETURNS INT DETERMINISTIC RETURN x + 100; CREATE PROCEDURE extra() SELECT 1;")
        .await;
    drift_reverted(dir, &db.url, &["next_n", "extra"]);
    let body: i64 = db
        .scalar("SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME = 'next_n' AND ROUTINE_DEFINITION = 'RETURN x + 1'")
        .await;
    assert_eq!(body, 1, "the history's body is back");
}

/// Table options on MySQL: a production database whose default collation is not the
/// shadow's shows no drift for tables the history created without one; a table converted by
/// hand and an engine changed are drift, and the revert converts back.
#[tokio::test]
async fn mysql_table_option_drift_is_seen_and_reverted() {
    let db = TestDb::new(Backend::Mysql).await;
    db.execute("ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci")
        .await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    deployed_clean(
        dir,
        &db.url,
        "1_tables",
        "CREATE TABLE a (id INT PRIMARY KEY, s VARCHAR(20));\nCREATE TABLE b (id INT PRIMARY KEY, s VARCHAR(20)) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n",
    );
    db.execute("ALTER TABLE b CONVERT TO CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci; ALTER TABLE b ENGINE=InnoDB; ALTER TABLE a ENGINE=MyISAM")
        .await;
    drift_reverted(
        dir,
        &db.url,
        &[
            "table options of `a`",
            "table options of `b`",
            "utf8mb4_bin",
        ],
    );
    let back = db
        .scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'b' AND ENGINE = 'MyISAM' AND TABLE_COLLATION = 'utf8mb4_bin'")
        .await;
    assert_eq!(back, 1, "b is MyISAM and utf8mb4_bin again");
}

/// A materialized view's unique index (what `REFRESH … CONCURRENTLY` needs) dropped by hand
/// is drift; the revert creates it again and leaves the view's rows alone.
#[tokio::test]
async fn postgres_materialized_view_index_drift_is_seen_and_reverted() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    deployed_clean(
        dir,
        &db.url,
        "1_mv",
        "CREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t VALUES (1), (2);\nCREATE MATERIALIZED VIEW mv AS SELECT id FROM t;\nCREATE UNIQUE INDEX mv_id ON mv (id);\n",
    );
    db.execute("DROP INDEX mv_id; CREATE INDEX mv_extra ON mv (id DESC)")
        .await;
    drift_reverted(dir, &db.url, &["mv_id", "mv_extra"]);
    db.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY mv")
        .await;
    assert_eq!(db.scalar("SELECT COUNT(*) FROM mv").await, 2);
}

/// `keel baseline` of a database holding every kind keel models writes a migration that
/// recreates them (verified in a shadow), and a new environment built from it equals the
/// original: `keel diff --from A --to B --exit-code` finds nothing.
async fn baseline_rebuilds(backend: Backend, ddl: &str) {
    let a = TestDb::new(backend).await;
    a.execute(ddl).await;
    let b = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    let (rc, out) = run(dir, &a.url, &["baseline"]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("verified"), "{out}");
    let (rc, out) = run(dir, &b.url, &["deploy"]);
    assert_eq!(rc, 0, "{out}");
    let (rc, out) = run(
        dir,
        &a.url,
        &["diff", "--from", &a.url, "--to", &b.url, "--exit-code"],
    );
    assert_eq!(
        rc, 0,
        "the environment built from the baseline differs: {out}"
    );
}

#[tokio::test]
async fn baseline_rebuilds_every_kind_postgres() {
    baseline_rebuilds(
        Backend::Postgres,
        "CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
         CREATE TYPE pair AS (a integer, b text);
         CREATE FUNCTION next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'c' || floor(random() * 1000)::text $$;
         CREATE TABLE room (id int PRIMARY KEY, code text NOT NULL DEFAULT next_code(), n positive, p pair);
         CREATE TABLE booking (id int PRIMARY KEY, room_id int REFERENCES room (id), during tsrange,
           EXCLUDE USING gist (during WITH &&));
         CREATE TABLE hit (id int, at date) PARTITION BY RANGE (at);
         CREATE TABLE hit_2026 PARTITION OF hit FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
         CREATE MATERIALIZED VIEW busy AS SELECT room_id, count(*) AS n FROM booking GROUP BY room_id;
         CREATE UNIQUE INDEX busy_room ON busy (room_id);
         CREATE FUNCTION guard() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END; $$;
         CREATE EVENT TRIGGER keel_test_baseline_guard ON ddl_command_end EXECUTE FUNCTION guard();
         ALTER TABLE room ENABLE ROW LEVEL SECURITY;
         CREATE POLICY mine ON room USING (id > 0);",
    )
    .await;
}

#[tokio::test]
async fn baseline_rebuilds_every_kind_mysql() {
    baseline_rebuilds(
        Backend::Mysql,
        "CREATE TABLE doc (id INT PRIMARY KEY, title VARCHAR(200) NOT NULL, spot POINT NOT NULL,
           touched TIMESTAMP NULL ON UPDATE CURRENT_TIMESTAMP, FULLTEXT KEY doc_text (title), SPATIAL KEY doc_spot (spot))
           DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
         CREATE TABLE legacy (id INT PRIMARY KEY) ENGINE=MyISAM;
         CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;
         CREATE TRIGGER doc_bi BEFORE INSERT ON doc FOR EACH ROW SET NEW.id = add_one(NEW.id);
         CREATE EVENT tidy ON SCHEDULE EVERY 1 DAY DO DELETE FROM legacy;",
    )
    .await;
}
