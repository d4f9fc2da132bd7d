//! MySQL/MariaDB introspection on a real server: each feature from fixture DDL, canonical
//! equality of spellings that mean the same, and the flipt corpus (`KEEL_CORPORA`) against its
//! `mariadb-dump --no-data`.
#![allow(clippy::unwrap_used)]

use keel_core::schema::{Action, AutoIncrement};
use keel_test_support::{Backend, TestDb};
use sqlx::Connection;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod common;
use common::{column, index, introspect, names, parts, table};

const FIXTURE: &str = r#"
CREATE TABLE parent (
    id int(11) NOT NULL AUTO_INCREMENT,
    region varchar(10) NOT NULL DEFAULT 'eu',
    code varchar(10) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY parent_code (code),
    UNIQUE KEY parent_region_code (region, code)
) COMMENT = 'parents here';
CREATE TABLE t (
    id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
    s varchar(20) NOT NULL DEFAULT 'abc',
    q varchar(20) DEFAULT 'it''s',
    bs varchar(20) DEFAULT 'a\\b',
    n int DEFAULT '5',
    d decimal(5,2) DEFAULT 1.50,
    sn varchar(5) DEFAULT '0',
    nn varchar(5) DEFAULT NULL,
    nd text,
    ts timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    ts2 datetime DEFAULT now(),
    dt datetime DEFAULT '2020-01-01 00:00:00',
    u varchar(36) DEFAULT (uuid()),
    e enum('a','b') DEFAULT 'a',
    b bit(1) DEFAULT b'1',
    flag tinyint(1) NOT NULL DEFAULT 0,
    j json,
    g int GENERATED ALWAYS AS (n * 2) VIRTUAL,
    gs varchar(30) AS (concat(s, 'x')) STORED,
    c varchar(10) COLLATE utf8mb4_bin COMMENT 'a comment',
    parent_id int,
    region varchar(10),
    code varchar(10),
    pt point NOT NULL,
    PRIMARY KEY (id),
    KEY idx_prefix (s(5), n DESC),
    KEY `idx``btree` (n, d) USING BTREE,
    FULLTEXT KEY ft (nd),
    SPATIAL KEY sp (pt),
    UNIQUE KEY uq_two (n, d),
    CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT fk_region_code FOREIGN KEY (region, code) REFERENCES parent (region, code),
    CONSTRAINT chk_n CHECK (n > 0)
) COMMENT 'the t';
CREATE TABLE pair (a int NOT NULL, b varchar(5) NOT NULL, PRIMARY KEY (b, a));
CREATE VIEW v AS SELECT id, s FROM t WHERE n > 1;
CREATE TABLE _keel_migrations (id varchar(36) PRIMARY KEY);
CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_and_columns() {
    let db = TestDb::new(Backend::Mysql).await;
    db.execute(FIXTURE).await;
    let s = introspect(&db).await;

    // Views and the ledger tables are not tables.
    let tables: Vec<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tables, ["pair", "parent", "t"]);
    assert_eq!(
        s.table(table(&s, "parent")).comment.as_deref(),
        Some("parents here")
    );
    assert_eq!(s.table(table(&s, "pair")).comment, None);

    let cols: Vec<&str> = s
        .table_columns(table(&s, "t"))
        .map(|(_, c)| c.name.as_str())
        .collect();
    assert_eq!(
        cols,
        [
            "id",
            "s",
            "q",
            "bs",
            "n",
            "d",
            "sn",
            "nn",
            "nd",
            "ts",
            "ts2",
            "dt",
            "u",
            "e",
            "b",
            "flag",
            "j",
            "g",
            "gs",
            "c",
            "parent_id",
            "region",
            "code",
            "pt"
        ]
    );

    // Types: integer display widths dropped, tinyint(1) kept.
    assert_eq!(column(&s, "parent", "id").data_type, "int");
    assert_eq!(column(&s, "t", "id").data_type, "bigint unsigned");
    assert_eq!(column(&s, "t", "flag").data_type, "tinyint(1)");
    assert_eq!(column(&s, "t", "e").data_type, "enum('a','b')");
    assert_eq!(column(&s, "t", "ts").data_type, "timestamp(3)");

    assert_eq!(
        column(&s, "t", "id").auto_increment,
        Some(AutoIncrement::AutoIncrement)
    );
    assert_eq!(column(&s, "t", "n").auto_increment, None);
    assert!(!column(&s, "t", "s").nullable);
    assert!(column(&s, "t", "q").nullable);

    let defaults: Vec<(&str, Option<&str>)> = [
        "s", "q", "bs", "n", "d", "sn", "nn", "nd", "ts", "ts2", "dt", "u", "e", "b", "flag",
    ]
    .iter()
    .map(|c| (*c, column(&s, "t", c).default.as_deref()))
    .collect();
    assert_eq!(
        defaults,
        [
            ("s", Some("'abc'")),
            ("q", Some("'it''s'")),
            ("bs", Some("'a\\\\b'")),
            ("n", Some("5")),
            ("d", Some("1.50")),
            ("sn", Some("'0'")),
            ("nn", None),
            ("nd", None),
            ("ts", Some("CURRENT_TIMESTAMP(3)")),
            ("ts2", Some("CURRENT_TIMESTAMP")),
            ("dt", Some("'2020-01-01 00:00:00'")),
            ("u", Some("uuid()")),
            ("e", Some("'a'")),
            ("b", Some("b'1'")),
            ("flag", Some("0")),
        ]
    );
    assert_eq!(column(&s, "t", "id").default, None);

    let g = column(&s, "t", "g").generated.clone().unwrap();
    assert_eq!((g.expression.as_str(), g.stored), ("`n` * 2", false));
    let gs = column(&s, "t", "gs").generated.clone().unwrap();
    assert_eq!(
        (gs.expression.as_str(), gs.stored),
        ("concat(`s`,'x')", true)
    );
    assert_eq!(column(&s, "t", "gs").default, None);
    assert_eq!(column(&s, "t", "n").generated, None);

    // Collation only where it differs from the table's.
    assert_eq!(
        column(&s, "t", "c").collation.as_deref(),
        Some("utf8mb4_bin")
    );
    assert_eq!(column(&s, "t", "s").collation, None);
    assert_eq!(column(&s, "t", "c").comment.as_deref(), Some("a comment"));
    assert_eq!(column(&s, "t", "s").comment, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_indexes_checks_views() {
    let db = TestDb::new(Backend::Mysql).await;
    db.execute(FIXTURE).await;
    let s = introspect(&db).await;
    let t = table(&s, "t");
    let parent = table(&s, "parent");

    let pk = s.table(table(&s, "pair")).primary_key.clone().unwrap();
    assert_eq!(
        (pk.name, names(&s, &pk.columns)),
        (None, vec!["b".into(), "a".into()])
    );
    let pk = s.table(t).primary_key.clone().unwrap();
    assert_eq!(names(&s, &pk.columns), ["id"]);

    let mut all: Vec<(String, String)> = s
        .indexes
        .iter()
        .map(|i| (s.table(i.table).name.clone(), i.name.clone()))
        .collect();
    all.sort();
    let want: Vec<(String, String)> = [
        ("parent", "parent_code"),
        ("parent", "parent_region_code"),
        // The server creates an index for a foreign key no index covers, named after it.
        ("t", "fk_parent"),
        ("t", "fk_region_code"),
        ("t", "ft"),
        ("t", "idx_prefix"),
        ("t", "idx`btree"),
        ("t", "sp"),
        ("t", "uq_two"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(all, want);

    let i = index(&s, "idx_prefix");
    assert_eq!(parts(&s, i), ["s", "n"]);
    assert_eq!(i.columns[0].option.as_deref(), Some("5"));
    assert_eq!(i.columns[1].option, None);
    assert_eq!(
        i.columns.iter().map(|c| c.descending).collect::<Vec<_>>(),
        [false, true]
    );
    assert!(!i.unique && !i.constraint);
    assert_eq!(i.method, None);
    // `INDEX_TYPE` says BTREE for both; `SHOW CREATE TABLE` keeps the explicit one.
    assert_eq!(index(&s, "idx`btree").method.as_deref(), Some("BTREE"));
    assert_eq!(index(&s, "ft").method.as_deref(), Some("FULLTEXT"));
    assert_eq!(index(&s, "sp").method.as_deref(), Some("SPATIAL"));
    let u = index(&s, "uq_two");
    assert!(u.unique && !u.constraint);
    assert_eq!(parts(&s, u), ["n", "d"]);
    assert_eq!(parts(&s, index(&s, "fk_region_code")), ["region", "code"]);
    assert!(s
        .indexes
        .iter()
        .all(|i| i.predicate.is_none() && i.include.is_empty()));

    assert_eq!(s.foreign_keys.len(), 2);
    let fk = |name: &str| {
        s.foreign_keys
            .iter()
            .find(|f| f.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no foreign key {name}"))
    };
    let f = fk("fk_parent");
    assert_eq!((f.table, f.referenced_table), (t, parent));
    assert_eq!(names(&s, &f.columns), ["parent_id"]);
    assert_eq!(names(&s, &f.referenced_columns), ["id"]);
    assert_eq!(
        (f.on_delete, f.on_update),
        (Action::SetNull, Action::Cascade)
    );
    assert_eq!(f.deferrable, None);
    let f = fk("fk_region_code");
    assert_eq!(names(&s, &f.columns), ["region", "code"]);
    assert_eq!(names(&s, &f.referenced_columns), ["region", "code"]);
    // MariaDB reports the default action as RESTRICT.
    assert!(matches!(f.on_delete, Action::Restrict | Action::NoAction));

    // Named checks, plus MariaDB's automatic json_valid() check of the JSON column.
    let checks: Vec<(&str, &str)> = s
        .checks
        .iter()
        .map(|c| (c.name.as_deref().unwrap_or(""), c.expression.as_str()))
        .collect();
    assert_eq!(checks, [("chk_n", "`n` > 0"), ("j", "json_valid(`j`)")]);
    assert!(s.checks.iter().all(|c| c.table == t));

    assert_eq!(s.views.len(), 1);
    assert_eq!(s.views[0].name, "v");
    assert_eq!(
        s.views[0].definition,
        "select `t`.`id` AS `id`,`t`.`s` AS `s` from `t` where `t`.`n` > 1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spellings_that_mean_the_same_compare_equal() {
    let a = TestDb::new(Backend::Mysql).await;
    a.execute(
        "CREATE TABLE t (id int(11) NOT NULL AUTO_INCREMENT PRIMARY KEY, s varchar(10) DEFAULT 'x', \
         s2 varchar(10) DEFAULT ('y'), n int DEFAULT '5', ts timestamp NULL DEFAULT now(), \
         b tinyint(1) DEFAULT true, CHECK (n>0), KEY t_n (n));\
         CREATE VIEW v AS SELECT id FROM t;",
    )
    .await;
    let b = TestDb::new(Backend::Mysql).await;
    b.execute(
        "CREATE TABLE `t` (`id` INT NOT NULL AUTO_INCREMENT, `s` VARCHAR(10) DEFAULT \"x\", \
         s2 VARCHAR(10) DEFAULT 'y', n INTEGER DEFAULT 5, ts TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP, \
         b BOOLEAN DEFAULT 1, PRIMARY KEY (id), CONSTRAINT CHECK ( n > 0 ));\
         CREATE INDEX t_n ON t (n ASC);\
         CREATE VIEW `v` AS SELECT `id` FROM `t`;",
    )
    .await;
    let (sa, sb) = (introspect(&a).await, introspect(&b).await);
    assert_eq!(column(&sa, "t", "s2").default.as_deref(), Some("'y'"));
    assert_eq!(sa, sb);
}

/// A revert and redeploy re-creates an index from the model: `USING BTREE` must survive, so
/// that `SHOW CREATE TABLE` (what a dump, a checksum or another tool reads) is unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_index_method_survives_a_re_create() {
    let table = "CREATE TABLE `odd``t` (a int, b int, c int);";
    let a = TestDb::new(Backend::Mysql).await;
    a.execute(&format!(
        "{table} CREATE INDEX k_btree ON `odd``t` (a) USING BTREE; \
         CREATE INDEX k_plain ON `odd``t` (b); \
         CREATE UNIQUE INDEX k_unique ON `odd``t` (b, c) USING BTREE;"
    ))
    .await;
    let b = TestDb::new(Backend::Mysql).await;
    b.execute(table).await;
    let (want, bare) = (introspect(&a).await, introspect(&b).await);
    let plan = keel_core::schema::diff::diff(keel_core::Dialect::Mysql, &bare, &want);
    let sql = keel_core::schema::render::render_script(&plan).unwrap();
    assert!(sql.contains("(`a`) USING BTREE"), "{sql}");
    assert!(!sql.contains("(`b`) USING"), "{sql}");
    b.execute(&sql).await;
    assert_eq!(introspect(&b).await, want);
    assert_eq!(
        show_create(&a, "odd`t").await,
        show_create(&b, "odd`t").await
    );
}

async fn show_create(db: &TestDb, table: &str) -> String {
    let mut conn = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
    let sql = format!("SHOW CREATE TABLE `{}`", table.replace('`', "``"));
    let (_, ddl): (String, String) = sqlx::query_as(&sql).fetch_one(&mut conn).await.unwrap();
    ddl
}

// ---------------------------------------------------------------------------------------------
// Corpus

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flipt_corpus_agrees_with_its_dump() {
    let Ok(root) = std::env::var("KEEL_CORPORA") else {
        println!("skipped: KEEL_CORPORA is not set (the folder of corpora/INDEX.md)");
        return;
    };
    let root = Path::new(&root);
    let (repo, id) = ("flipt-io__flipt", "flipt_mysql");
    let applied = root.join(repo).join("_applied");
    let db = TestDb::new(Backend::Mysql).await;
    let order = std::fs::read_to_string(applied.join(format!("{id}.order.txt"))).unwrap();
    let mut conn = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
    for file in order.lines().filter(|l| !l.trim().is_empty()) {
        // Paths in order.txt are relative to the repository folder.
        let sql = std::fs::read_to_string(root.join(repo).join(file.trim())).unwrap();
        if let Err(e) = sqlx::raw_sql(&sql).execute(&mut conn).await {
            panic!("{id}: {file}: {e}");
        }
    }
    conn.close().await.unwrap();

    let s = introspect(&db).await;
    let dump =
        std::fs::read_to_string(applied.join(format!("{id}.mariadb10.11.schema.sql"))).unwrap();
    let want = parse_dump(&dump);
    let mut p = Vec::new();

    let got_tables: BTreeSet<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
    let want_tables: BTreeSet<&str> = want.keys().map(String::as_str).collect();
    if got_tables != want_tables {
        p.push(format!(
            "tables: dump {want_tables:?}, introspected {got_tables:?}"
        ));
    }
    for (t, w) in &want {
        let Some(tid) = s.table_id(None, t) else {
            continue;
        };
        let got: Vec<String> = s.table_columns(tid).map(|(_, c)| c.name.clone()).collect();
        if got != w.columns {
            p.push(format!(
                "{t} columns: dump {:?}, introspected {got:?}",
                w.columns
            ));
        }
        let got: BTreeSet<String> = s
            .indexes
            .iter()
            .filter(|i| i.table == tid)
            .map(|i| i.name.clone())
            .collect();
        if got != w.indexes {
            p.push(format!(
                "{t} indexes: dump {:?}, introspected {got:?}",
                w.indexes
            ));
        }
        if s.table(tid).primary_key.is_some() != w.primary_key {
            p.push(format!("{t} primary key: dump {}", w.primary_key));
        }
        let got: BTreeSet<String> = s
            .foreign_keys
            .iter()
            .filter(|f| f.table == tid)
            .filter_map(|f| f.name.clone())
            .collect();
        if got != w.foreign_keys {
            p.push(format!(
                "{t} foreign keys: dump {:?}, introspected {got:?}",
                w.foreign_keys
            ));
        }
        let got = s.checks.iter().filter(|c| c.table == tid).count();
        if got != w.checks {
            p.push(format!("{t} checks: dump {}, introspected {got}", w.checks));
        }
    }
    // INDEX.json counts distinct (table, index), PRIMARY included.
    let index_json = std::fs::read_to_string(root.join("INDEX.json")).unwrap_or_default();
    let pks = s.tables.iter().filter(|t| t.primary_key.is_some()).count();
    for (key, got) in [
        ("tables", s.tables.len()),
        ("indexes", s.indexes.len() + pks),
        ("foreign_keys", s.foreign_keys.len()),
    ] {
        if let Some(n) = stat(&index_json, id, key) {
            if n != got {
                p.push(format!("INDEX.json {key}: {n}, introspected {got}"));
            }
        }
    }
    println!(
        "{id}: {} tables, {} columns, {} indexes, {} foreign keys, {} checks: {}",
        s.tables.len(),
        s.columns.len(),
        s.indexes.len(),
        s.foreign_keys.len(),
        s.checks.len(),
        if p.is_empty() { "agrees" } else { "DIFFERS" }
    );
    assert!(p.is_empty(), "{}", p.join("\n"));
}

/// One table of a `mariadb-dump --no-data`.
#[derive(Default)]
struct DumpTable {
    columns: Vec<String>,
    /// Index names other than PRIMARY.
    indexes: BTreeSet<String>,
    primary_key: bool,
    foreign_keys: BTreeSet<String>,
    /// Table-level `CONSTRAINT … CHECK` plus column-level `CHECK (…)`.
    checks: usize,
}

/// Reads the `CREATE TABLE` blocks of a `mariadb-dump`: one column, key or constraint a line.
fn parse_dump(dump: &str) -> BTreeMap<String, DumpTable> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, DumpTable)> = None;
    for line in dump.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("CREATE TABLE `") {
            let name = rest.split('`').next().unwrap().to_string();
            current = Some((name, DumpTable::default()));
            continue;
        }
        let Some((name, t)) = current.as_mut() else {
            continue;
        };
        let quoted = |s: &str| s.split('`').nth(1).unwrap_or_default().to_string();
        if l.starts_with(')') {
            let (name, t) = (std::mem::take(name), std::mem::take(t));
            out.insert(name, t);
            current = None;
        } else if l.starts_with('`') {
            t.columns.push(quoted(l));
            if l.contains(" CHECK (") {
                t.checks += 1;
            }
        } else if l.starts_with("PRIMARY KEY") {
            t.primary_key = true;
        } else if ["UNIQUE KEY", "KEY", "FULLTEXT KEY", "SPATIAL KEY"]
            .iter()
            .any(|k| l.starts_with(&format!("{k} `")))
        {
            t.indexes.insert(quoted(l));
        } else if l.starts_with("CONSTRAINT") && l.contains(" FOREIGN KEY ") {
            t.foreign_keys.insert(quoted(l));
        } else if l.starts_with("CONSTRAINT") && l.contains(" CHECK ") {
            t.checks += 1;
        }
    }
    out
}

/// One number of `"stats"` of corpus `id` in INDEX.json (read without a JSON parser: the file
/// is pretty-printed, one key per line).
fn stat(json: &str, id: &str, key: &str) -> Option<usize> {
    let start = json.find(&format!("\"{id}\": {{"))?;
    let stats = start + json[start..].find("\"stats\": {")?;
    let end = stats + json[stats..].find('}')?;
    let body = &json[stats..end];
    let at = body.find(&format!("\"{key}\": "))? + key.len() + 4;
    body[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}
