//! SQLite introspection on real databases: each feature from fixture DDL, canonical equality of
//! spellings that mean the same, and the corpora (`KEEL_CORPORA`) against their `sqlite3
//! .schema` dumps.
#![allow(clippy::unwrap_used)]

use keel_core::schema::{Action, AutoIncrement, Schema};
use keel_test_support::{Backend, TestDb};
use sqlx::Connection;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod common;
use common::{column, index, introspect, names, parts, table};

const FIXTURE: &str = r#"
CREATE TABLE parent (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name varchar(20) COLLATE NOCASE DEFAULT 'x'
);
CREATE TABLE "child" (
    a INTEGER NOT NULL,
    b text NOT NULL DEFAULT (0),
    c REAL DEFAULT 1.5,
    d TIMESTAMP DEFAULT CURRENT_TIMESTAMP, -- a comment, with (a paren
    e,
    g INT GENERATED ALWAYS AS (a * 2) VIRTUAL,
    h TEXT AS (b || 'x') STORED,
    parent_id INTEGER REFERENCES parent ON DELETE CASCADE,
    code TEXT CHECK (code <> ''),
    CONSTRAINT child_pk PRIMARY KEY (a, b),
    CONSTRAINT fk_code FOREIGN KEY (code) REFERENCES parent (code) ON UPDATE SET NULL,
    CONSTRAINT a_positive CHECK (a > 0),
    UNIQUE (c, d)
);
CREATE INDEX child_expr ON child (lower(b) DESC, e COLLATE NOCASE, a) WHERE a > 1;
CREATE UNIQUE INDEX child_code ON child (code);
CREATE INDEX parent_name ON parent (name);
CREATE VIEW adults AS SELECT a, b FROM child WHERE a > 1;
CREATE TABLE _keel_migrations (id TEXT PRIMARY KEY);
CREATE TABLE _prisma_migrations (id TEXT PRIMARY KEY);
CREATE TABLE plain (id integer primary key, n INT);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_and_columns() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.execute(FIXTURE).await;
    let s = introspect(&db).await;

    // sqlite_sequence and the ledger tables are left out.
    let tables: Vec<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tables, ["child", "parent", "plain"]);

    let cols: Vec<&str> = s
        .table_columns(table(&s, "child"))
        .map(|(_, c)| c.name.as_str())
        .collect();
    assert_eq!(
        cols,
        ["a", "b", "c", "d", "e", "g", "h", "parent_id", "code"]
    );

    let id = column(&s, "parent", "id");
    assert_eq!(id.data_type, "INTEGER");
    assert_eq!(id.auto_increment, Some(AutoIncrement::AutoIncrement));
    assert!(!id.nullable, "a rowid alias is never NULL");
    // A rowid alias without AUTOINCREMENT is not auto-increment in the model.
    assert_eq!(column(&s, "plain", "id").auto_increment, None);
    assert!(!column(&s, "plain", "id").nullable);

    let name = column(&s, "parent", "name");
    assert_eq!(name.data_type, "VARCHAR(20)");
    assert_eq!(name.collation.as_deref(), Some("NOCASE"));
    assert_eq!(name.default.as_deref(), Some("'x'"));
    assert!(name.nullable);
    assert!(!column(&s, "parent", "code").nullable);

    assert_eq!(column(&s, "child", "b").default.as_deref(), Some("0"));
    assert_eq!(column(&s, "child", "c").default.as_deref(), Some("1.5"));
    assert_eq!(
        column(&s, "child", "d").default.as_deref(),
        Some("CURRENT_TIMESTAMP")
    );
    assert_eq!(column(&s, "child", "e").data_type, "");
    assert_eq!(column(&s, "child", "e").default, None);
    assert_eq!(column(&s, "child", "a").auto_increment, None);

    let g = column(&s, "child", "g").generated.clone().unwrap();
    assert_eq!((g.expression.as_str(), g.stored), ("a * 2", false));
    let h = column(&s, "child", "h").generated.clone().unwrap();
    assert_eq!((h.expression.as_str(), h.stored), ("b || 'x'", true));
    assert_eq!(column(&s, "child", "a").generated, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_indexes_checks_views() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.execute(FIXTURE).await;
    let s = introspect(&db).await;
    let child = table(&s, "child");
    let parent = table(&s, "parent");

    let pk = s.table(child).primary_key.clone().unwrap();
    assert_eq!(pk.name.as_deref(), Some("child_pk"));
    assert_eq!(names(&s, &pk.columns), ["a", "b"]);
    let pk = s.table(parent).primary_key.clone().unwrap();
    assert_eq!(
        (pk.name, names(&s, &pk.columns)),
        (None, vec!["id".to_string()])
    );

    // Explicit indexes.
    let e = index(&s, "child_expr");
    assert_eq!(e.table, child);
    assert_eq!(parts(&s, e), ["[lower(b)]", "e", "a"]);
    assert!(!e.unique && !e.constraint);
    assert_eq!(
        e.columns.iter().map(|c| c.descending).collect::<Vec<_>>(),
        [true, false, false]
    );
    // The key's collation differs from the column's (BINARY).
    assert_eq!(e.columns[1].option.as_deref(), Some("NOCASE"));
    assert_eq!(e.columns[2].option, None);
    assert_eq!(e.predicate.as_deref(), Some("a > 1"));
    let u = index(&s, "child_code");
    assert!(u.unique && !u.constraint);
    assert_eq!(u.predicate, None);
    // The index inherits the column's NOCASE: no option.
    assert_eq!(index(&s, "parent_name").columns[0].option, None);

    // UNIQUE constraints: automatic indexes, marked as constraints. Primary keys: none.
    let mut constraints: Vec<(String, Vec<String>)> = s
        .indexes
        .iter()
        .filter(|i| i.constraint)
        .map(|i| (s.table(i.table).name.clone(), parts(&s, i)))
        .collect();
    constraints.sort();
    assert_eq!(
        constraints,
        [
            ("child".to_string(), vec!["c".to_string(), "d".to_string()]),
            ("parent".to_string(), vec!["code".to_string()]),
        ]
    );
    assert!(s.indexes.iter().filter(|i| i.constraint).all(|i| i.unique));
    assert_eq!(s.indexes.len(), 5);

    // Foreign keys: unnamed; `REFERENCES parent` resolves to its primary key.
    assert_eq!(s.foreign_keys.len(), 2);
    let by_column = |c: &str| {
        s.foreign_keys
            .iter()
            .find(|f| names(&s, &f.columns) == [c])
            .unwrap_or_else(|| panic!("no foreign key on {c}"))
    };
    let fk = by_column("parent_id");
    assert_eq!(
        (fk.table, fk.referenced_table, fk.name.clone()),
        (child, parent, None)
    );
    assert_eq!(names(&s, &fk.referenced_columns), ["id"]);
    assert_eq!(
        (fk.on_delete, fk.on_update),
        (Action::Cascade, Action::NoAction)
    );
    let fk = by_column("code");
    assert_eq!(names(&s, &fk.referenced_columns), ["code"]);
    assert_eq!(
        (fk.on_delete, fk.on_update),
        (Action::NoAction, Action::SetNull)
    );

    // Checks, column-level and table-level, in declaration order.
    let checks: Vec<(Option<&str>, &str)> = s
        .checks
        .iter()
        .map(|c| (c.name.as_deref(), c.expression.as_str()))
        .collect();
    assert_eq!(
        checks,
        [(None, "code <> ''"), (Some("a_positive"), "a > 0")]
    );
    assert!(s.checks.iter().all(|c| c.table == child));

    assert_eq!(s.views.len(), 1);
    assert_eq!(s.views[0].name, "adults");
    assert_eq!(s.views[0].definition, "SELECT a, b FROM child WHERE a > 1");
    assert!(!s.views[0].materialized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spellings_that_mean_the_same_compare_equal() {
    let a = TestDb::new(Backend::Sqlite).await;
    a.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n int DEFAULT (0), s varchar(10) DEFAULT ('x'), \
         at datetime DEFAULT (CURRENT_TIMESTAMP));\
         CREATE INDEX t_n ON t (n);",
    )
    .await;
    let b = TestDb::new(Backend::Sqlite).await;
    b.execute(
        "CREATE TABLE \"t\" (\"id\" integer NOT NULL PRIMARY KEY, n INT DEFAULT 0, s VARCHAR(10) DEFAULT 'x', \
         at DATETIME DEFAULT CURRENT_TIMESTAMP);\
         CREATE INDEX \"t_n\" ON \"t\" (\"n\" ASC);",
    )
    .await;
    assert_eq!(introspect(&a).await, introspect(&b).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_tables_are_left_out() {
    let db = TestDb::new(Backend::Sqlite).await;
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(body); CREATE TABLE t (x TEXT);")
        .await;
    let s = introspect(&db).await;
    let tables: Vec<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        tables,
        ["t"],
        "the fts5 table and its shadow tables are not tables"
    );
}

// ---------------------------------------------------------------------------------------------
// Corpora

/// `(repository folder, corpus id)` of the SQLite corpora (see corpora/INDEX.md).
const CORPORA: &[(&str, &str)] = &[
    ("teableio__teable", "teable_sqlite"),
    ("stonith404__pingvin-share", "pingvin_sqlite"),
    ("atuinsh__atuin", "atuin_server_sqlite"),
    ("atuinsh__atuin", "atuin_client_sqlite"),
    ("flipt-io__flipt", "flipt_sqlite"),
    ("ory__kratos", "kratos_sqlite"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpora_agree_with_their_dumps() {
    let Ok(root) = std::env::var("KEEL_CORPORA") else {
        println!("skipped: KEEL_CORPORA is not set (the folder of corpora/INDEX.md)");
        return;
    };
    let root = Path::new(&root);
    let index_json = std::fs::read_to_string(root.join("INDEX.json")).unwrap_or_default();
    let mut problems = Vec::new();
    for (repo, id) in CORPORA {
        let db = TestDb::new(Backend::Sqlite).await;
        let applied = root.join(repo).join("_applied");
        let order = std::fs::read_to_string(applied.join(format!("{id}.order.txt"))).unwrap();
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
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
            std::fs::read_to_string(applied.join(format!("{id}.sqlite.schema.sql"))).unwrap();
        let want = parse_dump(&dump);
        let mut p = compare(&s, &want);

        // Index and foreign-key counts of INDEX.json, which include the automatic indexes of
        // primary keys (not an index in the model unless the key is a rowid alias).
        let pk_indexes = s
            .tables
            .iter()
            .filter(|t| match &t.primary_key {
                Some(pk) => {
                    !(pk.columns.len() == 1 && s.column(pk.columns[0]).data_type == "INTEGER")
                }
                None => false,
            })
            .count();
        // INDEX.json counts rows of pragma_foreign_key_list: one per key column.
        let fk_columns: usize = s.foreign_keys.iter().map(|f| f.columns.len()).sum();
        for (key, got) in [
            ("indexes", s.indexes.len() + pk_indexes),
            ("foreign_keys", fk_columns),
            ("tables", s.tables.len()),
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
        problems.extend(p.into_iter().map(|m| format!("{id}: {m}")));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What a `.schema` dump says: table → column names, table → explicit index names.
#[derive(Default)]
struct Dump {
    columns: BTreeMap<String, Vec<String>>,
    indexes: BTreeMap<String, BTreeSet<String>>,
    /// Table → number of `CHECK (` clauses.
    checks: BTreeMap<String, usize>,
}

fn compare(s: &Schema, want: &Dump) -> Vec<String> {
    let mut p = Vec::new();
    let got_tables: BTreeSet<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
    let want_tables: BTreeSet<&str> = want.columns.keys().map(String::as_str).collect();
    if got_tables != want_tables {
        p.push(format!(
            "tables: dump {want_tables:?}, introspected {got_tables:?}"
        ));
    }
    let want_checks = &want.checks;
    for (t, cols) in &want.columns {
        let Some(id) = s.table_id(None, t) else {
            continue;
        };
        let got: Vec<String> = s.table_columns(id).map(|(_, c)| c.name.clone()).collect();
        if &got != cols {
            p.push(format!("{t} columns: dump {cols:?}, introspected {got:?}"));
        }
        let got: BTreeSet<String> = s
            .indexes
            .iter()
            .filter(|i| i.table == id && !i.constraint)
            .map(|i| i.name.clone())
            .collect();
        let want = want.indexes.get(t).cloned().unwrap_or_default();
        if got != want {
            p.push(format!("{t} indexes: dump {want:?}, introspected {got:?}"));
        }
        let got = s.checks.iter().filter(|c| c.table == id).count();
        let want = want_checks.get(t).copied().unwrap_or_default();
        if got != want {
            p.push(format!("{t} checks: dump {want}, introspected {got}"));
        }
    }
    p
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

/// Reads the `CREATE TABLE` and `CREATE INDEX` statements of a `sqlite3 .schema` dump.
fn parse_dump(dump: &str) -> Dump {
    let mut out = Dump::default();
    for stmt in statements(dump) {
        let words: Vec<String> = stmt
            .split(|c: char| c.is_whitespace() || c == '(')
            .filter(|w| !w.is_empty())
            .take(8)
            .map(str::to_ascii_uppercase)
            .collect();
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        if w.starts_with(&["CREATE", "TABLE"]) {
            let skip = if w.get(2..5) == Some(&["IF", "NOT", "EXISTS"]) {
                5
            } else {
                2
            };
            let name = unquote(nth_word(&stmt, skip));
            if name.starts_with("sqlite_") {
                continue;
            }
            let open = stmt.find('(').unwrap();
            let close = stmt.rfind(')').unwrap();
            let cols = split_top(&stmt[open + 1..close])
                .into_iter()
                .filter_map(|item| {
                    let first = item.split_whitespace().next()?.to_string();
                    let upper = first.to_ascii_uppercase();
                    let keyword = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
                        .iter()
                        .any(|k| upper == *k || upper.starts_with(&format!("{k}(")));
                    (!keyword).then(|| unquote(&first))
                })
                .collect();
            out.checks.insert(name.clone(), count_checks(&stmt));
            out.columns.insert(name, cols);
        } else if w.starts_with(&["CREATE", "INDEX"])
            || w.starts_with(&["CREATE", "UNIQUE", "INDEX"])
        {
            let mut i = if w[1] == "UNIQUE" { 3 } else { 2 };
            if w.get(i..i + 3) == Some(&["IF", "NOT", "EXISTS"]) {
                i += 3;
            }
            let name = unquote(nth_word(&stmt, i));
            let on = w.iter().position(|x| *x == "ON").unwrap();
            let table = unquote(nth_word(&stmt, on + 1));
            out.indexes.entry(table).or_default().insert(name);
        }
    }
    out
}

/// Occurrences of the word `CHECK` followed by `(` (quotes are not skipped: none of the
/// corpora's strings holds one).
fn count_checks(stmt: &str) -> usize {
    let upper = stmt.to_ascii_uppercase();
    upper
        .match_indices("CHECK")
        .filter(|(i, _)| {
            let before = upper[..*i].chars().next_back();
            let after = upper[i + 5..].trim_start();
            !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') && after.starts_with('(')
        })
        .count()
}

/// The `n`th whitespace- or `(`-separated word of `stmt`.
fn nth_word(stmt: &str, n: usize) -> &str {
    stmt.split(|c: char| c.is_whitespace() || c == '(')
        .filter(|w| !w.is_empty())
        .nth(n)
        .unwrap()
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() >= 2
        && matches!(
            (b[0], b[b.len() - 1]),
            (b'"', b'"') | (b'`', b'`') | (b'[', b']') | (b'\'', b'\'')
        )
    {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// Splits `sql` at `;` outside quotes and comments; comments are dropped.
fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            cur.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => {
                quote = Some(c);
                cur.push(c);
            }
            '[' => {
                quote = Some(']');
                cur.push(c);
            }
            '-' if chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        cur.push('\n');
                        break;
                    }
                }
            }
            ';' => {
                out.push(std::mem::take(&mut cur).trim().to_string());
            }
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out.retain(|s| !s.is_empty());
    out
}

/// Splits a table body at commas outside parentheses and quotes.
fn split_top(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for c in body.chars() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            cur.push(c);
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '[' => quote = Some(']'),
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}
