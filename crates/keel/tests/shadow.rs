//! Shadow database strategies on real servers, and that shadows never outlive a run.
#![allow(clippy::unwrap_used)]

use keel::shadow::Shadow;
use keel::{Settings, SettingsInput, Source};
use keel_core::Dialect;
use keel_test_support::{Backend, TestDb};
use std::path::Path;

/// Tests in this file count `keel_shadow_%` databases: run them one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn settings(url: &str, dir: &Path, shadow: Option<String>) -> Settings {
    Settings::resolve(
        SettingsInput {
            database_url: Some(url.to_string()),
            migrations: Some(dir.to_path_buf()),
            shadow_database_url: shadow,
            ..Default::default()
        },
        dir,
    )
    .unwrap()
}

fn write(dir: &Path, name: &str, sql: &str) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("migration.sql"), sql).unwrap();
}

/// Every shadow database not in `before` is gone within 15 s: other tests running at the same
/// time create and drop their own; one this test leaked would stay.
async fn no_new_shadows(db: &TestDb, before: &[String]) {
    let new: Vec<String> = shadow_databases(db)
        .await
        .into_iter()
        .filter(|n| !before.contains(n))
        .collect();
    let start = std::time::Instant::now();
    loop {
        let now = shadow_databases(db).await;
        let left: Vec<&String> = new.iter().filter(|n| now.contains(n)).collect();
        if left.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(15),
            "keel_shadow_% databases remain: {left:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn shadow_databases(db: &TestDb) -> Vec<String> {
    let sql = match db.backend {
        Backend::Postgres => "SELECT datname::text FROM pg_database WHERE datname LIKE 'keel\\_shadow\\_%'",
        _ => "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'keel\\_shadow\\_%'",
    };
    match db.backend {
        Backend::Postgres => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
        }
        _ => {
            use sqlx::Connection;
            let mut c = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
        }
    }
}

async fn created_shadow_is_dropped_even_on_failure(backend: Backend) {
    let _g = SERIAL.lock().await;
    let db = TestDb::new(backend).await;
    let before = shadow_databases(&db).await;
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "1_a", "CREATE TABLE a (id INT PRIMARY KEY);");
    let s = settings(&db.url, t.path(), None);
    let r = keel::diff(&s, &Source::Empty, &Source::Migrations(None), false)
        .await
        .unwrap();
    assert_eq!(r.summary, vec!["added table `a` (1 columns)"]);
    assert!(
        r.shadows[0].starts_with("database keel_shadow_"),
        "{:?}",
        r.shadows
    );
    // A broken history: the replay fails, the shadow is still dropped.
    write(
        t.path(),
        "2_b",
        "CREATE TABLE b (id INT);\nINSERT INTO no_such_table VALUES (1);",
    );
    let e = keel::diff(&s, &Source::Empty, &Source::Migrations(None), false)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "K3006", "{e}");
    assert!(
        e.to_string().contains("`2_b`") && e.to_string().contains("step 2"),
        "{e}"
    );
    no_new_shadows(&db, &before).await;
}

#[tokio::test]
async fn created_shadow_is_dropped_postgres() {
    created_shadow_is_dropped_even_on_failure(Backend::Postgres).await
}
#[tokio::test]
async fn created_shadow_is_dropped_mysql() {
    created_shadow_is_dropped_even_on_failure(Backend::Mysql).await
}

#[tokio::test]
async fn given_shadow_url_is_emptied_and_never_the_target() {
    let _g = SERIAL.lock().await;
    for backend in [Backend::Postgres, Backend::Mysql] {
        let db = TestDb::new(backend).await;
        let scratch = TestDb::new(backend).await;
        scratch.execute("CREATE TABLE leftover (id INT)").await;
        let t = tempfile::tempdir().unwrap();
        write(t.path(), "1_a", "CREATE TABLE a (id INT PRIMARY KEY);");
        let s = settings(&db.url, t.path(), Some(scratch.url.clone()));
        let r = keel::diff(&s, &Source::Empty, &Source::Migrations(None), false)
            .await
            .unwrap();
        assert_eq!(
            r.summary,
            vec!["added table `a` (1 columns)"],
            "the shadow was emptied first"
        );
        assert!(r.shadows[0].starts_with("the given shadow database"));
        let s = settings(&db.url, t.path(), Some(db.url.clone()));
        let e = keel::diff(&s, &Source::Empty, &Source::Migrations(None), false)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "K3014");
        assert!(
            e.to_string().contains("is the target database itself"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn sqlite_shadow_is_memory() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = tempfile::tempdir().unwrap();
    let s = settings(&db.url, t.path(), None);
    let sh = Shadow::open(&s, Dialect::Sqlite).await.unwrap();
    assert_eq!(sh.strategy, "an in-memory SQLite database");
    sh.close().await;
}

/// A PostgreSQL role without CREATEDB: keel falls back to a private cluster from the local
/// binaries; without them, K3014 says which strategies it tried and why each failed.
#[tokio::test]
async fn postgres_role_without_createdb() {
    let _g = SERIAL.lock().await;
    let db = TestDb::new(Backend::Postgres).await;
    let role = format!(
        "keel_nocreatedb_{}",
        db.name.trim_start_matches("keel_test_")
    );
    db.execute(&format!("CREATE ROLE {role} LOGIN NOCREATEDB"))
        .await;
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "1_a", "CREATE TABLE a (id INT PRIMARY KEY);");
    let s = settings(&url, t.path(), None);
    let before = shadow_databases(&db).await;
    let r = keel::diff(&s, &Source::Empty, &Source::Migrations(None), false)
        .await
        .unwrap();
    assert!(
        r.shadows[0].starts_with("a private PostgreSQL cluster"),
        "{:?}",
        r.shadows
    );
    assert_eq!(r.summary, vec!["added table `a` (1 columns)"]);
    no_new_shadows(&db, &before).await;
    let leftovers = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("keel_shadow_cluster_{}_", std::process::id()))
        })
        .count();
    assert_eq!(leftovers, 0, "the private cluster's directory is removed");

    std::env::set_var("KEEL_PG_BINDIR", "/nonexistent/bin");
    let e = keel::diff(&s, &Source::Empty, &Source::Migrations(None), false)
        .await
        .unwrap_err();
    std::env::remove_var("KEEL_PG_BINDIR");
    assert_eq!(e.code(), "K3014", "{e}");
    let text = e.to_string();
    assert!(
        text.contains("CREATE DATABASE") && text.contains("permission denied"),
        "{text}"
    );
    assert!(text.contains("private cluster"), "{text}");
    assert!(e.fix().contains("--shadow-database-url"));
    // With a shadow URL it works.
    let scratch = TestDb::new(Backend::Postgres).await;
    let r = keel::diff(
        &settings(&url, t.path(), Some(scratch.url.clone())),
        &Source::Empty,
        &Source::Migrations(None),
        false,
    )
    .await
    .unwrap();
    assert_eq!(r.plan.changes.len(), 1);
    db.execute(&format!("DROP ROLE {role}")).await;
}

/// Neither CREATE DATABASE nor local binaries: a temporary schema inside a transaction on the
/// target, rolled back after; refused for migrations that manage their own transaction.
#[tokio::test]
async fn postgres_temporary_schema_in_the_target() {
    let _g = SERIAL.lock().await;
    let db = TestDb::new(Backend::Postgres).await;
    let role = format!("keel_owner_{}", db.name.trim_start_matches("keel_test_"));
    db.execute(&format!("CREATE ROLE {role} LOGIN NOCREATEDB; ALTER DATABASE {} OWNER TO {role}; CREATE TABLE live (id INT PRIMARY KEY); ALTER TABLE live OWNER TO {role}", db.name)).await;
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "1_a", "CREATE TYPE mood AS ENUM ('ok', 'sad');\nCREATE TABLE a (id INT PRIMARY KEY, m mood NOT NULL DEFAULT 'ok');\nCREATE INDEX CONCURRENTLY a_m ON a (m);\n");
    let s = settings(&url, t.path(), None);
    std::env::set_var("KEEL_PG_BINDIR", "/nonexistent/bin");
    let r = keel::diff(&s, &Source::Empty, &Source::Migrations(None), false).await;
    let r2 = {
        write(
            t.path(),
            "2_own_tx",
            "BEGIN;\nCREATE TABLE b (id INT);\nCOMMIT;\n",
        );
        let e = keel::diff(&s, &Source::Empty, &Source::Migrations(None), false).await;
        std::fs::remove_dir_all(t.path().join("2_own_tx")).unwrap();
        e
    };
    std::env::remove_var("KEEL_PG_BINDIR");
    let r = r.unwrap();
    assert!(
        r.shadows[0].starts_with("temporary schema keel_shadow_"),
        "{:?}",
        r.shadows
    );
    assert_eq!(
        r.summary,
        vec![
            "added enum `mood` (ok, sad)",
            "added table `a` (2 columns)",
            "added index `a_m` on `a`"
        ],
        "only the shadow schema is read, not the target's `live`"
    );
    let e = r2.unwrap_err();
    assert_eq!(e.code(), "K3014");
    assert!(e.to_string().contains("manages its own transaction"), "{e}");
    // The target is untouched: no shadow schema, no table `a`, `live` still there.
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM pg_namespace WHERE nspname LIKE 'keel\\_shadow\\_%'")
            .await,
        0
    );
    assert!(!db.has_table("a").await);
    assert!(db.has_table("live").await);
    db.execute(&format!("ALTER DATABASE {} OWNER TO postgres; DROP TABLE live; DROP OWNED BY {role}; DROP ROLE {role}", db.name)).await;
}
