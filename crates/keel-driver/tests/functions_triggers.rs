//! Functions, procedures and triggers (issue #15): read from the catalog, compared by their
//! definition as the database prints it, and recreated from the model — round trip on the real
//! servers: apply diff(A, B) to A, introspect, get B.
#![allow(clippy::unwrap_used)]

use keel_core::schema::diff::diff;
use keel_core::schema::plan::Change;
use keel_core::schema::render::render;
use keel_core::schema::{Schema, TriggerState};
use keel_core::Dialect;
use keel_test_support::{Backend, TestDb};

mod common;
use common::{apply_and_compare, introspect};

const PG: &str = r#"
CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA other;
CREATE FUNCTION next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'c' || floor(random() * 1000)::text $$;
CREATE TABLE item (
    id serial PRIMARY KEY,
    code text NOT NULL DEFAULT next_code(),
    updated timestamptz
);
CREATE TABLE child (id int PRIMARY KEY, item_id int REFERENCES item (id));
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated := now();
  RETURN NEW;
END;
$$;
CREATE TRIGGER item_touch BEFORE UPDATE ON item FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER item_audit AFTER INSERT ON item FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE item DISABLE TRIGGER item_audit;
CREATE FUNCTION pick(a integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT a';
CREATE FUNCTION pick(a text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT a';
CREATE PROCEDURE cleanup(days integer) LANGUAGE sql AS $$ DELETE FROM child WHERE id < days $$;
CREATE FUNCTION other.helper() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE TABLE parted (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE parted_2026 PARTITION OF parted FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TRIGGER parted_touch BEFORE UPDATE ON parted FOR EACH ROW EXECUTE FUNCTION touch();
"#;

#[tokio::test]
async fn postgres_functions_and_triggers_are_read_and_recreated() {
    let db = TestDb::new(Backend::Postgres).await;
    db.execute(PG).await;
    let s = introspect(&db).await;
    let names: Vec<(Option<&str>, &str, &str, bool)> = s
        .functions
        .iter()
        .map(|f| {
            (
                f.namespace.as_deref(),
                f.name.as_str(),
                f.arguments.as_str(),
                f.procedure,
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            (None, "cleanup", "IN days integer", true),
            (None, "next_code", "", false),
            (None, "pick", "a integer", false),
            (None, "pick", "a text", false),
            (None, "touch", "", false),
            (Some("other"), "helper", "", false),
        ],
        "extension functions (citext) are not the user's"
    );
    let touch = s.functions.iter().find(|f| f.name == "touch").unwrap();
    assert!(
        touch
            .definition
            .starts_with("CREATE OR REPLACE FUNCTION touch()"),
        "the current schema is not named: {}",
        touch.definition
    );
    let helper = s.functions.iter().find(|f| f.name == "helper").unwrap();
    assert!(helper
        .definition
        .starts_with("CREATE OR REPLACE FUNCTION other.helper()"));
    // Foreign-key triggers are internal; a partition's clone of its parent's trigger is the
    // parent's.
    let triggers: Vec<(String, &str, TriggerState)> = s
        .triggers
        .iter()
        .map(|t| (s.table_name(t.table), t.name.as_str(), t.state))
        .collect();
    assert_eq!(
        triggers,
        [
            ("item".to_string(), "item_audit", TriggerState::Disabled),
            ("item".to_string(), "item_touch", TriggerState::Enabled),
            ("parted".to_string(), "parted_touch", TriggerState::Enabled),
        ]
    );

    // Round trip: the model's creation script builds the same schema in an empty database.
    let empty = TestDb::new(Backend::Postgres).await;
    empty.execute("CREATE EXTENSION IF NOT EXISTS citext").await;
    let base = introspect(&empty).await;
    apply_and_compare(&empty, Dialect::Postgres, &base, &s).await;

    // A body replaced by hand, a trigger enabled, one dropped: each a change, and the plan
    // back restores the original.
    db.execute(
        "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$",
    )
    .await;
    db.execute("ALTER TABLE item ENABLE TRIGGER item_audit")
        .await;
    db.execute("DROP TRIGGER item_touch ON item").await;
    db.execute(
        "CREATE TRIGGER child_touch BEFORE UPDATE ON child FOR EACH ROW EXECUTE FUNCTION touch()",
    )
    .await;
    let changed = introspect(&db).await;
    let plan = diff(Dialect::Postgres, &s, &changed);
    let kinds: Vec<&str> = plan.changes.iter().map(Change::kind).collect();
    for k in [
        "replace_function",
        "create_trigger",
        "alter_trigger",
        "drop_trigger",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    apply_and_compare(&db, Dialect::Postgres, &changed, &s).await;

    // A function dropped, and one turned from a function into a procedure of the same name.
    let before = introspect(&db).await;
    db.execute("DROP FUNCTION pick(text)").await;
    db.execute(
        "DROP FUNCTION other.helper(); CREATE PROCEDURE other.helper() LANGUAGE sql AS 'SELECT 1'",
    )
    .await;
    let after = introspect(&db).await;
    apply_and_compare(&db, Dialect::Postgres, &after, &before).await;
}

#[tokio::test]
async fn sqlite_triggers_are_read_and_recreated() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, n INTEGER, updated TEXT)")
        .await;
    db.execute(
        "CREATE TRIGGER item_touch AFTER UPDATE OF n ON item BEGIN UPDATE item SET updated = 'x;y' WHERE id = NEW.id; END",
    )
    .await;
    let s = introspect(&db).await;
    assert_eq!(s.triggers.len(), 1);
    assert!(
        s.triggers[0].definition.ends_with("END"),
        "{}",
        s.triggers[0].definition
    );

    // Round trip into an empty database.
    let empty = TestDb::new(Backend::Sqlite).await;
    let base = introspect(&empty).await;
    apply_and_compare(&empty, Dialect::Sqlite, &base, &s).await;

    // Replaced by hand: dropped and created again; and a rebuilt table keeps its trigger.
    db.execute("DROP TRIGGER item_touch").await;
    db.execute("CREATE TRIGGER item_touch AFTER UPDATE ON item BEGIN SELECT 1; END")
        .await;
    let changed = introspect(&db).await;
    apply_and_compare(&db, Dialect::Sqlite, &changed, &s).await;
    let mut rebuilt = s.clone();
    let n = rebuilt.column_id(rebuilt.triggers[0].table, "n").unwrap();
    rebuilt.columns[n.idx()].nullable = false;
    rebuilt.columns[n.idx()].default = Some("0".into());
    let plan = diff(Dialect::Sqlite, &s, &rebuilt);
    assert!(
        plan.changes
            .iter()
            .any(|c| matches!(c, Change::RedefineTable { .. })),
        "{:?}",
        plan.changes
    );
    apply_and_compare(&db, Dialect::Sqlite, &s, &rebuilt).await;
}

#[tokio::test]
async fn mysql_triggers_are_read_and_recreated() {
    let db = TestDb::new(Backend::Mysql).await;
    db.execute("CREATE TABLE item (id INT PRIMARY KEY, n INT, seen VARCHAR(10))")
        .await;
    db.execute("CREATE TRIGGER item_seen BEFORE UPDATE ON item FOR EACH ROW SET NEW.seen = 'yes'")
        .await;
    db.execute(
        "CREATE TRIGGER item_more BEFORE UPDATE ON item FOR EACH ROW BEGIN\n  IF NEW.n < 0 THEN SET NEW.n = 0; END IF;\nEND",
    )
    .await;
    let s = introspect(&db).await;
    let names: Vec<&str> = s.triggers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["item_seen", "item_more"], "in firing order");
    assert_eq!(
        s.triggers[0].definition,
        "CREATE TRIGGER `item_seen` BEFORE UPDATE ON `item` FOR EACH ROW SET NEW.seen = 'yes'"
    );
    let empty = TestDb::new(Backend::Mysql).await;
    let base = introspect(&empty).await;
    apply_and_compare(&empty, Dialect::Mysql, &base, &s).await;
    assert_eq!(introspect(&empty).await.triggers, s.triggers);
    // Replaced by hand: dropped and created again.
    db.execute("DROP TRIGGER item_seen").await;
    db.execute("CREATE TRIGGER item_seen BEFORE UPDATE ON item FOR EACH ROW SET NEW.seen = 'no'")
        .await;
    let changed = introspect(&db).await;
    let plan = diff(Dialect::Mysql, &s, &changed);
    let kinds: Vec<&str> = plan.changes.iter().map(Change::kind).collect();
    assert_eq!(kinds, ["drop_trigger", "create_trigger"]);
}

#[tokio::test]
async fn postgres_row_security_and_policies_are_read_and_recreated() {
    let db = TestDb::new(Backend::Postgres).await;
    db.execute(
        "CREATE TABLE doc (id int PRIMARY KEY, owner text NOT NULL, public boolean NOT NULL DEFAULT false);
         ALTER TABLE doc ENABLE ROW LEVEL SECURITY;
         ALTER TABLE doc FORCE ROW LEVEL SECURITY;
         CREATE POLICY doc_read ON doc FOR SELECT USING (public OR owner = current_user);
         CREATE POLICY doc_write ON doc AS RESTRICTIVE FOR UPDATE TO postgres USING (owner = current_user) WITH CHECK (owner = current_user);
         CREATE TABLE plain (id int);",
    )
    .await;
    let s = introspect(&db).await;
    assert_eq!(s.row_security.len(), 1, "{:?}", s.row_security);
    assert!(s.row_security[0].enabled && s.row_security[0].forced);
    let names: Vec<&str> = s.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["doc_read", "doc_write"]);
    let write = &s.policies[1];
    assert!(!write.permissive);
    assert_eq!(
        (write.command.as_str(), write.roles.as_str()),
        ("UPDATE", "postgres")
    );
    assert_eq!(s.policies[0].roles, "PUBLIC");
    let empty = TestDb::new(Backend::Postgres).await;
    let base = introspect(&empty).await;
    apply_and_compare(&empty, Dialect::Postgres, &base, &s).await;

    // By hand: a policy added, one changed, security no longer forced.
    db.execute("CREATE POLICY doc_insert ON doc FOR INSERT WITH CHECK (true)")
        .await;
    db.execute(
        "DROP POLICY doc_read ON doc; CREATE POLICY doc_read ON doc FOR SELECT USING (true)",
    )
    .await;
    db.execute("ALTER TABLE doc NO FORCE ROW LEVEL SECURITY")
        .await;
    let changed = introspect(&db).await;
    let plan = diff(Dialect::Postgres, &s, &changed);
    let kinds: Vec<&str> = plan.changes.iter().map(Change::kind).collect();
    for k in ["create_policy", "drop_policy", "alter_row_security"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    apply_and_compare(&db, Dialect::Postgres, &changed, &s).await;
}

#[tokio::test]
async fn sqlite_table_options_are_read_and_recreated() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.execute(
        "CREATE TABLE s (id INTEGER PRIMARY KEY, n INTEGER) STRICT;
         CREATE TABLE w (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;
         CREATE TABLE b (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID, STRICT;
         CREATE TABLE plain (id INTEGER PRIMARY KEY, n INTEGER);
         INSERT INTO plain (id, n) VALUES (1, 2);",
    )
    .await;
    let s = introspect(&db).await;
    let options: Vec<(&str, Option<&str>)> = s
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t.options.as_deref()))
        .collect();
    assert_eq!(
        options,
        [
            ("b", Some("WITHOUT ROWID, STRICT")),
            ("plain", None),
            ("s", Some("STRICT")),
            ("w", Some("WITHOUT ROWID")),
        ]
    );
    let empty = TestDb::new(Backend::Sqlite).await;
    let base = introspect(&empty).await;
    apply_and_compare(&empty, Dialect::Sqlite, &base, &s).await;
    // Made STRICT: only a rebuild can, and it keeps the rows.
    let mut strict = s.clone();
    let plain = strict.table_id(None, "plain").unwrap();
    strict.tables[plain.idx()].options = Some("STRICT".into());
    let plan = diff(Dialect::Sqlite, &s, &strict);
    assert!(
        matches!(plan.changes.as_slice(), [Change::RedefineTable { .. }]),
        "{:?}",
        plan.changes
    );
    apply_and_compare(&db, Dialect::Sqlite, &s, &strict).await;
    assert_eq!(db.scalar("SELECT n FROM plain WHERE id = 1").await, 2);
}

#[tokio::test]
async fn mysql_on_update_and_invisible_columns_are_read_and_recreated() {
    let db = TestDb::new(Backend::Mysql).await;
    db.execute(
        "CREATE TABLE item (
            id INT PRIMARY KEY,
            updated TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
            touched DATETIME(3) NULL ON UPDATE CURRENT_TIMESTAMP(3),
            secret VARCHAR(10) NULL INVISIBLE
        )",
    )
    .await;
    let s = introspect(&db).await;
    let t = s.table_id(None, "item").unwrap();
    let of = |n: &str| s.column(s.column_id(t, n).unwrap()).clone();
    assert_eq!(
        of("updated").on_update.as_deref(),
        Some("CURRENT_TIMESTAMP")
    );
    assert_eq!(
        of("touched").on_update.as_deref(),
        Some("CURRENT_TIMESTAMP(3)")
    );
    assert!(of("secret").invisible && !of("updated").invisible);
    assert_eq!(of("id").on_update, None);
    let empty = TestDb::new(Backend::Mysql).await;
    let base = introspect(&empty).await;
    apply_and_compare(&empty, Dialect::Mysql, &base, &s).await;
    // Changed by hand: seen, and put back.
    db.execute("ALTER TABLE item MODIFY COLUMN touched DATETIME(3) NULL, MODIFY COLUMN secret VARCHAR(10) NULL")
        .await;
    let changed = introspect(&db).await;
    let plan = diff(Dialect::Mysql, &s, &changed);
    assert_eq!(plan.changes.len(), 2, "{:?}", plan.changes);
    apply_and_compare(&db, Dialect::Mysql, &changed, &s).await;
}

#[tokio::test]
async fn postgres_not_valid_constraints_are_read_recreated_and_validated() {
    let db = TestDb::new(Backend::Postgres).await;
    db.execute(
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE child (id int PRIMARY KEY, parent_id int, n int);
         INSERT INTO child VALUES (1, 99, -1);
         ALTER TABLE child ADD CONSTRAINT child_parent_fkey FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID;
         ALTER TABLE child ADD CONSTRAINT child_n_check CHECK (n >= 0) NOT VALID;",
    )
    .await;
    let s = introspect(&db).await;
    assert!(s.foreign_keys.iter().all(|f| f.not_valid));
    assert!(s.checks.iter().all(|c| c.not_valid));
    let empty = TestDb::new(Backend::Postgres).await;
    let base = introspect(&empty).await;
    apply_and_compare(&empty, Dialect::Postgres, &base, &s).await;
    // Validated by hand (after the rows were fixed): two validations, no drop and re-add.
    db.execute("DELETE FROM child; ALTER TABLE child VALIDATE CONSTRAINT child_parent_fkey; ALTER TABLE child VALIDATE CONSTRAINT child_n_check")
        .await;
    let valid = introspect(&db).await;
    let plan = diff(Dialect::Postgres, &s, &valid);
    let kinds: Vec<&str> = plan.changes.iter().map(Change::kind).collect();
    assert_eq!(kinds, ["validate_foreign_key", "validate_check"]);
    apply_and_compare(&empty, Dialect::Postgres, &s, &valid).await;
    // And back to NOT VALID: only by dropping and adding again.
    apply_and_compare(&db, Dialect::Postgres, &valid, &s).await;
}

#[tokio::test]
async fn postgres_partitioned_tables_and_partitions_are_read_and_recreated() {
    let db = TestDb::new(Backend::Postgres).await;
    db.execute(
        "CREATE TABLE events (id bigserial, at date NOT NULL, kind text DEFAULT 'x', PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
         CREATE INDEX events_kind ON events (kind);
         CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
         CREATE TABLE events_old PARTITION OF events DEFAULT;
         CREATE INDEX events_2026_local ON events_2026 (id);
         CREATE TABLE tags (k text, v text, CHECK (v <> '')) PARTITION BY LIST (k);
         CREATE TABLE a_tags PARTITION OF tags FOR VALUES IN ('a', 'b');
         CREATE TABLE ref (id int PRIMARY KEY, e_id bigint, e_at date, FOREIGN KEY (e_id, e_at) REFERENCES events (id, at));",
    )
    .await;
    let s = introspect(&db).await;
    let t = |name: &str| s.table(s.table_id(None, name).unwrap());
    assert_eq!(t("events").partition_by.as_deref(), Some("RANGE (at)"));
    assert_eq!(t("tags").partition_by.as_deref(), Some("LIST (k)"));
    let p = t("events_2026").partition_of.clone().unwrap();
    assert_eq!(
        (p.table.as_str(), p.bound.as_str()),
        ("events", "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
    );
    assert_eq!(
        t("events_old").partition_of.as_ref().unwrap().bound,
        "DEFAULT"
    );
    // What the partitions have from their parents is the parents': no key, index or check
    // of their own but the one made on the partition itself.
    assert!(t("events_2026").primary_key.is_none());
    let own: Vec<&str> = s
        .indexes
        .iter()
        .filter(|i| s.table(i.table).partition_of.is_some())
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(own, ["events_2026_local"]);
    assert!(s
        .checks
        .iter()
        .all(|c| s.table(c.table).partition_of.is_none()));
    // Recreated from nothing (partitions sort before their parents here: `a_tags`).
    let empty = TestDb::new(Backend::Postgres).await;
    let base = introspect(&empty).await;
    apply_and_compare(&empty, Dialect::Postgres, &base, &s).await;
    // Detached by hand: one change, and attaching again undoes it.
    db.execute("ALTER TABLE events DETACH PARTITION events_old")
        .await;
    let detached = introspect(&db).await;
    let kinds = |a: &Schema, b: &Schema| -> Vec<&'static str> {
        diff(Dialect::Postgres, a, b)
            .changes
            .iter()
            .map(Change::kind)
            .collect()
    };
    assert_eq!(kinds(&s, &detached), ["detach_partition"]);
    apply_and_compare(&empty, Dialect::Postgres, &s, &detached).await;
    apply_and_compare(&empty, Dialect::Postgres, &detached, &s).await;
    // A column added to the parent is added to its partitions by the server: one change.
    db.execute("ALTER TABLE events ATTACH PARTITION events_old DEFAULT; ALTER TABLE events ADD COLUMN note text")
        .await;
    let wider = introspect(&db).await;
    assert_eq!(kinds(&s, &wider), ["add_column"]);
    apply_and_compare(&empty, Dialect::Postgres, &s, &wider).await;
    // A new partition key cannot be had in place: the renderer says so.
    let mut rekeyed = wider.clone();
    let id = rekeyed.table_id(None, "tags").unwrap();
    rekeyed.tables[id.idx()].partition_by = Some("HASH (k)".into());
    let plan = diff(Dialect::Postgres, &wider, &rekeyed);
    assert_eq!(
        plan.changes.iter().map(Change::kind).collect::<Vec<_>>(),
        ["repartition"]
    );
    assert!(render(&plan)
        .unwrap_err()
        .to_string()
        .contains("partitioning"));
}

#[tokio::test]
async fn postgres_nulls_not_distinct_and_index_storage_are_read_and_recreated() {
    let db = TestDb::new(Backend::Postgres).await;
    db.execute(
        "CREATE TABLE u (a int, b int, c int);
         CREATE UNIQUE INDEX u_a ON u (a) NULLS NOT DISTINCT WITH (fillfactor = 70);
         ALTER TABLE u ADD CONSTRAINT u_b UNIQUE NULLS NOT DISTINCT (b) WITH (fillfactor = 80);
         CREATE INDEX u_c ON u (c) WITH (deduplicate_items = off);",
    )
    .await;
    let s = introspect(&db).await;
    let ix = |name: &str| s.indexes.iter().find(|i| i.name == name).unwrap();
    assert!(ix("u_a").nulls_not_distinct && ix("u_b").nulls_not_distinct);
    assert!(!ix("u_c").nulls_not_distinct);
    assert_eq!(ix("u_a").storage.as_deref(), Some("fillfactor=70"));
    assert_eq!(ix("u_b").storage.as_deref(), Some("fillfactor=80"));
    assert_eq!(ix("u_c").storage.as_deref(), Some("deduplicate_items=off"));
    let empty = TestDb::new(Backend::Postgres).await;
    let base = introspect(&empty).await;
    apply_and_compare(&empty, Dialect::Postgres, &base, &s).await;
    // Changed by hand: the index is made again as the history has it.
    db.execute("ALTER INDEX u_a SET (fillfactor = 90); DROP INDEX u_c; CREATE INDEX u_c ON u (c)")
        .await;
    let changed = introspect(&db).await;
    let kinds: Vec<&str> = diff(Dialect::Postgres, &changed, &s)
        .changes
        .iter()
        .map(Change::kind)
        .collect();
    assert_eq!(
        kinds,
        ["drop_index", "drop_index", "create_index", "create_index"]
    );
    apply_and_compare(&db, Dialect::Postgres, &changed, &s).await;
}

#[tokio::test]
async fn mysql_stored_routines_are_read_and_recreated() {
    let db = TestDb::new(Backend::Mysql).await;
    db.execute(
        "CREATE TABLE t (id INT PRIMARY KEY, n INT NOT NULL DEFAULT 0);
         CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;
         CREATE PROCEDURE bump(IN by_n INT, OUT total INT) COMMENT 'adds it''s n' BEGIN UPDATE t SET n = n + by_n; SELECT SUM(n) INTO total FROM t; END;",
    )
    .await;
    let s = introspect(&db).await;
    let f = |name: &str| s.functions.iter().find(|f| f.name == name).unwrap();
    assert_eq!(
        f("add_one").definition,
        "CREATE FUNCTION `add_one`(`x` int(11)) RETURNS int(11) DETERMINISTIC CONTAINS SQL SQL SECURITY DEFINER RETURN x + 1"
    );
    assert!(f("bump").procedure);
    assert!(
        f("bump").definition.starts_with("CREATE PROCEDURE `bump`(IN `by_n` int(11), OUT `total` int(11)) NOT DETERMINISTIC CONTAINS SQL SQL SECURITY DEFINER COMMENT 'adds it''s n' BEGIN"),
        "{}",
        f("bump").definition
    );
    let empty = TestDb::new(Backend::Mysql).await;
    let base = introspect(&empty).await;
    apply_and_compare(&empty, Dialect::Mysql, &base, &s).await;
    // A body replaced by hand: a drop and a create bring the history's back.
    db.execute("DROP FUNCTION add_one; CREATE FUNCTION add_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 2")
        .await;
    let changed = introspect(&db).await;
    let kinds: Vec<&str> = diff(Dialect::Mysql, &changed, &s)
        .changes
        .iter()
        .map(Change::kind)
        .collect();
    assert_eq!(kinds, ["replace_function"]);
    apply_and_compare(&db, Dialect::Mysql, &changed, &s).await;
}

#[tokio::test]
async fn postgres_nested_hash_and_cross_schema_partitions_are_recreated() {
    let db = TestDb::new(Backend::Postgres).await;
    db.execute(
        "CREATE SCHEMA archive;
         CREATE TABLE m (id int NOT NULL, at date NOT NULL, k int NOT NULL, CHECK (k >= 0)) PARTITION BY RANGE (at);
         CREATE TABLE m_2026 PARTITION OF m FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY HASH (k);
         CREATE TABLE m_2026_h0 PARTITION OF m_2026 FOR VALUES WITH (modulus 2, remainder 0);
         CREATE TABLE m_2026_h1 PARTITION OF m_2026 FOR VALUES WITH (modulus 2, remainder 1);
         CREATE TABLE archive.m_2020 PARTITION OF m FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');",
    )
    .await;
    let s = introspect(&db).await;
    let t = |ns: Option<&str>, name: &str| s.table(s.table_id(ns, name).unwrap()).clone();
    assert_eq!(t(None, "m_2026").partition_by.as_deref(), Some("HASH (k)"));
    assert_eq!(
        t(None, "m_2026_h1").partition_of.unwrap().bound,
        "FOR VALUES WITH (modulus 2, remainder 1)"
    );
    assert_eq!(
        t(Some("archive"), "m_2020").partition_of.unwrap().table,
        "m"
    );
    let empty = TestDb::new(Backend::Postgres).await;
    let base = introspect(&empty).await;
    apply_and_compare(&empty, Dialect::Postgres, &base, &s).await;
    // And all of it dropped again: the deepest partitions first.
    apply_and_compare(&empty, Dialect::Postgres, &s, &base).await;
}
