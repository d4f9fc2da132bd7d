//! The embedding API (issue #7, item 7): `keel::Migrator` from a directory, from migrations
//! compiled into the binary, and on a connection from the application's sqlx pool; the same
//! lock, ledger and errors as `keel deploy`, and a future an application can `tokio::spawn`.
#![allow(clippy::unwrap_used)]

use keel::{Migrator, Settings, SettingsInput};
use keel_core::ledger::State;
use keel_test_support::{db_test, Backend, TestDb};
use std::path::Path;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/embedded");

fn embedded() -> Migrator {
    keel::embed_migrations!("$CARGO_MANIFEST_DIR/tests/fixtures/embedded").unwrap()
}

async fn embedded_and_directory_read_the_same(db: TestDb) {
    let from_binary = embedded();
    let from_disk = Migrator::from_dir(FIXTURE).unwrap();
    let names = |m: &Migrator| -> Vec<(String, String, bool)> {
        m.migrations()
            .iter()
            .map(|m| (m.name.clone(), m.checksum.clone(), m.down_path.is_some()))
            .collect()
    };
    assert_eq!(names(&from_binary), names(&from_disk));
    assert_eq!(from_binary.migrations().len(), 2);

    // Deployed from a spawned task (the future is Send), then seen by `keel status` reading
    // the directory: one ledger, same checksums.
    let url = db.url.clone();
    let report = tokio::spawn(async move { from_binary.deploy(&url).await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        report.applied,
        vec!["20260101000000_users", "20260102000000_posts"]
    );
    let s = Settings::resolve(
        SettingsInput {
            database_url: Some(db.url.clone()),
            migrations: Some(FIXTURE.into()),
            ..Default::default()
        },
        Path::new(FIXTURE),
    )
    .unwrap();
    let st = keel::status(&s).await.unwrap();
    assert_eq!(st.exit_code(), 0, "{}", st.summary());
    let st = embedded().status(&db.url).await.unwrap();
    assert!(st
        .reconciled
        .entries
        .iter()
        .all(|e| e.state == State::Applied));
    // Again: nothing to do.
    assert!(embedded().deploy(&db.url).await.unwrap().applied.is_empty());
}
db_test!(embedded_and_directory_read_the_same);

/// The same refusals and codes as the CLI: a migration edited after it was applied is K4001.
async fn same_errors_as_the_cli(db: TestDb) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("migrations");
    std::fs::create_dir_all(dir.join("1_a")).unwrap();
    std::fs::write(dir.join("1_a/migration.sql"), "CREATE TABLE a (id INT);\n").unwrap();
    Migrator::from_dir(&dir)
        .unwrap()
        .deploy(&db.url)
        .await
        .unwrap();
    std::fs::write(
        dir.join("1_a/migration.sql"),
        "CREATE TABLE a (id BIGINT);\n",
    )
    .unwrap();
    let e = Migrator::from_dir(&dir)
        .unwrap()
        .deploy(&db.url)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "K4001", "{e}");
    // A bad migration name is refused when the migrator is built.
    std::fs::create_dir_all(dir.join("2 b")).unwrap();
    std::fs::write(dir.join("2 b/migration.sql"), "SELECT 1;\n").unwrap();
    assert_eq!(Migrator::from_dir(&dir).unwrap_err().code(), "K4016");
}
db_test!(same_errors_as_the_cli);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_with_a_postgres_pool() {
    let db = TestDb::new(Backend::Postgres).await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let r = embedded().deploy_with(&pool).await.unwrap();
    assert_eq!(r.applied.len(), 2);
    // The pool still works, and holds no keel session state.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert!(embedded()
        .deploy_with(&pool)
        .await
        .unwrap()
        .applied
        .is_empty());
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_with_a_mysql_pool() {
    let db = TestDb::new(Backend::Mysql).await;
    let pool = sqlx::MySqlPool::connect(&db.url).await.unwrap();
    let r = embedded().deploy_with(&pool).await.unwrap();
    assert_eq!(r.applied.len(), 2);
    assert!(db.has_table("posts").await);
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_with_a_sqlite_pool() {
    let db = TestDb::new(Backend::Sqlite).await;
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(
            db.url
                .trim_start_matches("sqlite://")
                .trim_end_matches("?mode=rwc"),
        )
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    let r = embedded().deploy_with(&pool).await.unwrap();
    assert_eq!(r.applied.len(), 2);
    assert!(db.has_table("posts").await);
    pool.close().await;
}

/// Several application instances starting at once: each migration applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_apply_each_migration_once() {
    let db = TestDb::new(Backend::Postgres).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move { embedded().deploy(&url).await.map(|r| r.applied.len()) })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap().unwrap();
    }
    assert_eq!(total, 2);
}
