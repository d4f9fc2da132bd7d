//! keel behind a real PgBouncer on loopback (issue #7, item 2). In transaction mode the
//! server session changes between transactions, so the session-level deploy lock would not
//! hold: keel refuses with K1020 and changes nothing, even with 16 deploys at once. In session
//! mode (a stable session) it deploys, and 16 concurrent deploys apply each migration once.
//!
//! Needs the `pgbouncer` binary (Debian package `pgbouncer`, which `.ci/run` installs); without
//! it the tests say so and skip.
#![allow(clippy::unwrap_used)]

use keel_test_support::pgbouncer::PgBouncer;
use keel_test_support::{Backend, TestDb};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn pgbouncer(pool_mode: &str) -> Option<PgBouncer> {
    PgBouncer::start(pool_mode, 20)
}

fn through(db: &TestDb, bouncer: &PgBouncer) -> String {
    bouncer.url_for(&db.url)
}

fn project() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let mig = t.path().join("migrations");
    for i in 1..=5 {
        let d = mig.join(format!("{i}_m{i}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("migration.sql"),
            format!("CREATE TABLE t{i} (id INT);\nINSERT INTO t{i} VALUES ({i});\n"),
        )
        .unwrap();
    }
    let p = t.path().to_path_buf();
    (t, p)
}

fn deploys(dir: &Path, url: &str, n: usize) -> Vec<Output> {
    let bin = assert_cmd::cargo::cargo_bin("keel");
    let children: Vec<_> = (0..n)
        .map(|_| {
            Command::new(&bin)
                .current_dir(dir)
                .env_remove("DATABASE_URL")
                .args([
                    "--database-url",
                    url,
                    "--deploy-lock-timeout",
                    "60s",
                    "deploy",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Advisory locks held in `db` (the deploy lock must not be left behind).
async fn advisory_locks(db: &TestDb) -> i64 {
    db.scalar(
        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .await
}

#[tokio::test]
async fn transaction_mode_is_refused_and_nothing_changes() {
    let Some(b) = pgbouncer("transaction") else {
        return;
    };
    let db = TestDb::new(Backend::Postgres).await;
    let (_t, dir) = project();
    let url = through(&db, &b);
    let out = deploys(&dir, &url, 1);
    let o = &out[0];
    let all = text(o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("K1020"), "{all}");
    assert!(all.contains("not a stable session"), "{all}");
    assert!(all.contains("direct connection"), "{all}");
    assert!(!db.has_table("t1").await, "nothing applied");
    assert!(!db.has_table("_keel_migrations").await, "no ledger written");
    assert_eq!(
        advisory_locks(&db).await,
        0,
        "the deploy lock is not left held"
    );
    // The same project deploys over a direct URL.
    let out = deploys(&dir, &db.url, 1);
    assert!(out[0].status.success(), "{}", text(&out[0]));
    assert!(db.has_table("t5").await);
}

#[tokio::test]
async fn sixteen_deploys_through_transaction_mode_all_refuse() {
    let Some(b) = pgbouncer("transaction") else {
        return;
    };
    let db = TestDb::new(Backend::Postgres).await;
    let (_t, dir) = project();
    let out = deploys(&dir, &through(&db, &b), 16);
    let refused = out
        .iter()
        .filter(|o| o.status.code() == Some(1) && text(o).contains("K1020"))
        .count();
    let others: Vec<String> = out
        .iter()
        .filter(|o| !text(o).contains("K1020"))
        .map(text)
        .collect();
    println!("pgbouncer transaction mode: {refused} of 16 concurrent deploys refused with K1020");
    assert_eq!(refused, 16, "{others:?}");
    assert!(!db.has_table("t1").await, "nothing applied");
    // keel takes the lock only on a checked session, so none is left in the pooler's
    // server sessions (one would block every later deploy, direct ones too).
    assert_eq!(advisory_locks(&db).await, 0);
    drop(b);
}

#[tokio::test]
async fn sixteen_deploys_through_session_mode_apply_each_migration_once() {
    let Some(b) = pgbouncer("session") else {
        return;
    };
    let db = TestDb::new(Backend::Postgres).await;
    let (_t, dir) = project();
    let out = deploys(&dir, &through(&db, &b), 16);
    let mut applied = 0;
    for o in &out {
        assert!(o.status.success(), "{}", text(o));
        applied += String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.starts_with("applied "))
            .count();
    }
    assert_eq!(applied, 5);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM _keel_migrations WHERE finished_at IS NOT NULL")
            .await,
        5
    );
    for i in 1..=5 {
        assert_eq!(
            db.scalar(&format!("SELECT COUNT(*) FROM t{i}")).await,
            1,
            "t{i} filled once"
        );
    }
}

/// Statement mode hands the server session around after every statement: refused as
/// transaction mode is (K1020), not reported as a lost connection (issue #13, item 17).
#[tokio::test]
async fn statement_mode_is_refused_with_k1020() {
    let Some(b) = pgbouncer("statement") else {
        return;
    };
    let db = TestDb::new(Backend::Postgres).await;
    let (_t, dir) = project();
    let out = deploys(&dir, &through(&db, &b), 1);
    let all = text(&out[0]);
    assert_eq!(out[0].status.code(), Some(1), "{all}");
    assert!(all.contains("K1020"), "{all}");
    assert!(!db.has_table("t1").await, "nothing applied");
}

/// Session mode with one server connection per pool: the session check's second connection
/// waits in the pooler's queue; it must give up quickly, not stall the deploy (issue #13,
/// item 17).
#[tokio::test]
async fn session_mode_with_one_server_connection_does_not_stall() {
    let Some(b) = PgBouncer::start("session", 1) else {
        return;
    };
    let db = TestDb::new(Backend::Postgres).await;
    let (_t, dir) = project();
    let started = Instant::now();
    let out = deploys(&dir, &through(&db, &b), 1);
    let took = started.elapsed();
    assert!(out[0].status.success(), "{}", text(&out[0]));
    assert!(db.has_table("t5").await);
    println!("deploy through a one-connection session pool: {took:?}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}
