//! Lint rules on real servers: for every rule, on each database it applies to, a migration
//! that breaks it and one that does not, linted against a target with seeded rows so that the
//! facts in the messages (row counts) are exact. The findings are snapshot-tested per
//! database.
#![allow(clippy::unwrap_used)]

use keel::{Settings, SettingsInput};
use keel_test_support::{Backend, TestDb};
use std::path::Path;

fn write(dir: &Path, name: &str, sql: &str) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("migration.sql"), sql).unwrap();
}

const BASE: &str = "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100), nickname VARCHAR(50), name VARCHAR(50), age INT);
CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, total INT, note VARCHAR(100));
CREATE TABLE audit (id INT PRIMARY KEY);
CREATE TABLE parents (id INT PRIMARY KEY);
CREATE TABLE kids (id INT PRIMARY KEY, parent_id INT REFERENCES parents (id));
";

const SEED: [&str; 3] = [
    "INSERT INTO users (id, email, nickname, name, age) VALUES (1, 'a@x', NULL, 'A', 30), (2, 'a@x', 'b', 'B', NULL), (3, 'c@x', 'c', 'C', 40)",
    "INSERT INTO orders (id, user_id, total, note) VALUES (10, 1, 5, 'x'), (11, 99, 7, NULL)",
    "INSERT INTO audit (id) VALUES (1), (2)",
];

/// (rule, failing migration, passing migration) for `b`.
fn cases(b: Backend) -> Vec<(&'static str, String, String)> {
    let pg = b == Backend::Postgres;
    let my = b == Backend::Mysql;
    let lite = b == Backend::Sqlite;
    let add = "ALTER TABLE users ADD COLUMN x INT;".to_string();
    let mut v: Vec<(&str, String, String)> = vec![
        (
            "drop-table",
            "DROP TABLE audit;".into(),
            "CREATE TABLE t2 (id INT);".into(),
        ),
        (
            "drop-column",
            "ALTER TABLE users DROP COLUMN age;".into(),
            add.clone(),
        ),
        (
            "rename",
            "ALTER TABLE users RENAME COLUMN nickname TO nick;".into(),
            add.clone(),
        ),
        (
            "unique-may-fail",
            "CREATE UNIQUE INDEX users_email_key ON users (email);".into(),
            "CREATE INDEX users_email_idx ON users (email);".into(),
        ),
    ];
    if pg || my {
        let (narrow, widen, not_null) = if pg {
            (
                "ALTER TABLE users ALTER COLUMN name TYPE VARCHAR(10);",
                "ALTER TABLE users ALTER COLUMN name TYPE VARCHAR(100);",
                "ALTER TABLE users ALTER COLUMN nickname SET NOT NULL;",
            )
        } else {
            (
                "ALTER TABLE users MODIFY name VARCHAR(10);",
                "ALTER TABLE users MODIFY name VARCHAR(100);",
                "ALTER TABLE users MODIFY nickname VARCHAR(50) NOT NULL;",
            )
        };
        v.push(("narrowing-type", narrow.into(), widen.into()));
        v.push(("set-not-null", not_null.into(), add.clone()));
    }
    if pg {
        v.push(("foreign-key-not-valid", "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);".into(), "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;".into()));
        v.push((
            "index-not-concurrent",
            "CREATE INDEX orders_total_idx ON orders (total);".into(),
            "-- keel:no-transaction\nCREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);"
                .into(),
        ));
        v.push((
            "table-rewrite",
            "ALTER TABLE orders ALTER COLUMN total TYPE BIGINT;".into(),
            "ALTER TABLE orders ALTER COLUMN note TYPE VARCHAR(200);".into(),
        ));
        v.push((
            "mixed-non-transactional",
            "ALTER TABLE users ADD COLUMN x INT;\nCREATE INDEX CONCURRENTLY users_x ON users (x);"
                .into(),
            "-- keel:no-transaction\nCREATE INDEX CONCURRENTLY users_name_idx ON users (name);"
                .into(),
        ));
        v.push((
            "missing-lock-timeout",
            add.clone(),
            format!("-- keel:lock-timeout=2s\n{add}"),
        ));
    }
    if my {
        v.push((
            "mysql-table-copy",
            "ALTER TABLE orders MODIFY total BIGINT;".into(),
            "ALTER TABLE orders ADD COLUMN y INT;".into(),
        ));
        v.push((
            "remove-enum-value",
            "ALTER TABLE orders MODIFY status ENUM('new','paid');".into(),
            "ALTER TABLE orders MODIFY status ENUM('new','paid','cancelled','refunded');".into(),
        ));
    }
    if lite {
        let redefine = "CREATE TABLE new_kids (id INT PRIMARY KEY, parent_id BIGINT REFERENCES parents (id));\nINSERT INTO new_kids (id, parent_id) SELECT id, parent_id FROM kids;\nDROP TABLE kids;\nALTER TABLE new_kids RENAME TO kids;";
        v.push((
            "sqlite-redefine-foreign-keys",
            redefine.into(),
            format!("PRAGMA foreign_keys=OFF;\n{redefine}\nPRAGMA foreign_keys=ON;"),
        ));
    }
    v
}

async fn rules_on(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let base = if backend == Backend::Mysql {
        format!("{BASE}ALTER TABLE orders ADD COLUMN status ENUM('new','paid','cancelled');\n")
    } else {
        BASE.to_string()
    };
    write(dir, "1_base", &base);
    let s = Settings::resolve(
        SettingsInput {
            database_url: Some(db.url.clone()),
            migrations: Some(dir.to_path_buf()),
            ..Default::default()
        },
        dir,
    )
    .unwrap();
    keel::deploy(&s, &keel::DeployOptions::default(), &mut |_| {})
        .await
        .unwrap();
    for sql in SEED {
        db.execute(sql).await;
    }
    let mut out = String::new();
    for (rule, failing, passing) in cases(backend) {
        for (label, sql) in [("breaks", &failing), ("passes", &passing)] {
            write(dir, "2_case", sql);
            let r = keel::lint(&s, &[])
                .await
                .unwrap_or_else(|e| panic!("{rule} {label}: {e}"));
            std::fs::remove_dir_all(dir.join("2_case")).unwrap();
            let hits: Vec<String> = r
                .findings
                .iter()
                .filter(|f| f.id == rule)
                .map(|f| {
                    format!(
                        "  {}[{}] line {} step {}: {}",
                        f.severity, f.id, f.line, f.step, f.message
                    )
                })
                .collect();
            if label == "breaks" {
                assert!(
                    !hits.is_empty(),
                    "{rule} on {backend:?}: no finding for\n{sql}\nall: {:?}",
                    r.findings
                );
            } else {
                assert!(
                    hits.is_empty(),
                    "{rule} on {backend:?}: finding for the passing SQL\n{sql}\n{hits:?}"
                );
            }
            out.push_str(&format!("{rule} {label}:\n"));
            for h in &hits {
                out.push_str(h);
                out.push('\n');
            }
        }
    }
    insta::assert_snapshot!(format!("rules_{backend:?}").to_lowercase(), out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_postgres() {
    rules_on(Backend::Postgres).await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_mysql() {
    rules_on(Backend::Mysql).await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_sqlite() {
    rules_on(Backend::Sqlite).await;
}
