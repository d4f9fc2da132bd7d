//! Regressions of the four copies of the executor that `run/` replaced (issue #12): every
//! caller now gets SQLite's foreign-key check before COMMIT and the lock-wait retries that
//! deploy had alone.
#![allow(clippy::unwrap_used)]

use keel::{
    deploy, repair, rollback, status, DeployOptions, Error, RepairDirection, RepairOptions,
    RollbackOptions, Settings, SettingsInput,
};
use keel_core::ledger::State;
use keel_test_support::{write_migration as write, Backend, TestDb};
use std::path::Path;
use std::time::{Duration, Instant};

fn settings(url: &str, dir: &Path, lock_timeout: &str, attempts: u32) -> Settings {
    Settings::resolve(
        SettingsInput {
            database_url: Some(url.to_string()),
            migrations: Some(dir.to_path_buf()),
            lock_timeout: Some(lock_timeout.into()),
            lock_attempts: Some(attempts),
            ..Default::default()
        },
        dir,
    )
    .unwrap()
}

async fn state_of(s: &Settings, name: &str) -> State {
    let st = status(s).await.unwrap();
    st.reconciled.get(name).unwrap().state
}

/// A SQLite `down.sql` that redefines a table with foreign keys off (Prisma's pattern) and
/// leaves a dangling reference: before, rollback committed it (deploy and repair ran
/// `PRAGMA foreign_key_check`, rollback did not); now it fails and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_down_sql_leaving_orphans_fails_and_changes_nothing() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(
        dir,
        "1_base",
        "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));\nINSERT INTO p (id) VALUES (1);\nINSERT INTO c (id, p_id) VALUES (1, 1);\n",
    );
    write(dir, "2_note", "ALTER TABLE c ADD COLUMN note TEXT;\n");
    std::fs::write(
        dir.join("2_note").join("down.sql"),
        "PRAGMA foreign_keys=OFF;\nCREATE TABLE new_c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));\nINSERT INTO new_c (id, p_id) SELECT id, p_id FROM c;\nDROP TABLE c;\nALTER TABLE new_c RENAME TO c;\nDELETE FROM p;\nPRAGMA foreign_keys=ON;\n",
    )
    .unwrap();
    let s = settings(&db.url, dir, "2s", 1);
    deploy(&s, &DeployOptions::default(), &mut |_| {})
        .await
        .unwrap();

    let e = rollback(&s, &RollbackOptions::default(), &mut |_| true)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "K4066", "{e}");
    let text = e.to_string();
    assert!(text.contains("foreign key check"), "{text}");
    assert!(text.contains("nothing changed"), "{text}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM p").await,
        1,
        "the parent row stays"
    );
    assert!(db.has_column("c", "note").await, "the column stays");
    assert_eq!(state_of(&s, "2_note").await, State::Applied);
    // The connection's foreign keys were restored: a later deploy of the same database works.
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM pragma_foreign_key_check")
            .await,
        0
    );
}

/// A session that holds `t` (an open transaction that read it), released after `after`.
async fn hold_for(url: &str, after: Duration) -> tokio::task::JoinHandle<()> {
    let mut d = keel_driver::connect(url).await.unwrap();
    d.execute("BEGIN").await.unwrap();
    d.execute("SELECT * FROM t").await.unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        d.execute("COMMIT").await.unwrap();
        d.close().await;
    })
}

/// Rollback waits for a lock as deploy does: each wait bounded by `--lock-timeout`, retried
/// with backoff; with one attempt it gives up at once with the server's lock error and changes
/// nothing. Before, rollback ran without a lock timeout and queued behind the holder (and
/// every query of the application queued behind rollback).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_waits_for_locks_with_retries() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(dir, "1_base", "CREATE TABLE t (id INT PRIMARY KEY);\n");
    write(dir, "2_w", "ALTER TABLE t ADD COLUMN w INT;\n");
    std::fs::write(
        dir.join("2_w").join("down.sql"),
        "ALTER TABLE t DROP COLUMN w;\n",
    )
    .unwrap();
    let s = settings(&db.url, dir, "200ms", 1);
    deploy(&s, &DeployOptions::default(), &mut |_| {})
        .await
        .unwrap();

    // One attempt: gives up after one lock timeout, long before the holder ends.
    let holder = hold_for(&db.url, Duration::from_secs(4)).await;
    let started = Instant::now();
    let e = rollback(&s, &RollbackOptions::default(), &mut |_| true)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(e.code(), "K4066", "{e}");
    assert!(e.to_string().contains("55P03"), "{e}");
    assert!(db.has_column("t", "w").await);
    assert_eq!(state_of(&s, "2_w").await, State::Applied);
    holder.await.unwrap();

    // Eight attempts: waits, retries, and succeeds once the holder is gone.
    let holder = hold_for(&db.url, Duration::from_millis(1500)).await;
    let s = settings(&db.url, dir, "200ms", 8);
    let mut waits = 0;
    keel::rollback_with_events(&s, &RollbackOptions::default(), &mut |_| true, &mut |e| {
        if matches!(e, keel::Event::LockWait { .. }) {
            waits += 1;
        }
    })
    .await
    .unwrap();
    holder.await.unwrap();
    assert!(waits >= 1, "each wait is reported, as deploy's are");
    assert!(!db.has_column("t", "w").await);
    assert_eq!(state_of(&s, "2_w").await, State::RolledBack);
}

/// Repair waits for a lock as deploy does (the same executor).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repair_waits_for_locks_with_retries() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(
        dir,
        "1_base",
        "CREATE TABLE t (id INT PRIMARY KEY, v INT);\nINSERT INTO t (id, v) VALUES (1, NULL);\n",
    );
    // Fails on this data (a NULL), not on an empty database: repair --finish can run it.
    write(
        dir,
        "2_strict",
        "ALTER TABLE t ALTER COLUMN v SET NOT NULL;\n",
    );
    let s = settings(&db.url, dir, "200ms", 1);
    let e = deploy(&s, &DeployOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(e, Error::MigrationFailed { .. }), "{e}");
    db.execute("UPDATE t SET v = 0").await;
    let finish = RepairOptions {
        direction: RepairDirection::Finish,
        allow_data_loss: false,
        dry_run: false,
    };

    let holder = hold_for(&db.url, Duration::from_secs(4)).await;
    let started = Instant::now();
    let e = repair(&s, "2_strict", finish, &mut |_| true)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(e.code(), "K4053", "{e}");
    assert!(e.to_string().contains("55P03"), "{e}");
    assert!(e.to_string().contains("nothing changed"), "{e}");
    assert_eq!(state_of(&s, "2_strict").await, State::Failed);
    holder.await.unwrap();

    let holder = hold_for(&db.url, Duration::from_millis(1500)).await;
    let s = settings(&db.url, dir, "200ms", 8);
    repair(&s, "2_strict", finish, &mut |_| true).await.unwrap();
    holder.await.unwrap();
    assert_eq!(state_of(&s, "2_strict").await, State::Applied);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'v' AND is_nullable = 'NO'")
            .await,
        1
    );
}

/// doctor's data probes run under one statement timeout, as lint's did: a probe that waits for
/// a lock (an `ACCESS EXCLUSIVE` holder) stops after 5 s and doctor says so. Before, doctor's
/// counts ran without a timeout and doctor waited as long as the holder did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_counts_stop_at_the_statement_timeout() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(
        dir,
        "1_base",
        "CREATE TABLE t (id INT PRIMARY KEY, v INT);\nINSERT INTO t (id, v) VALUES (1, NULL);\n",
    );
    write(
        dir,
        "2_strict",
        "ALTER TABLE t ALTER COLUMN v SET NOT NULL;\n",
    );
    let s = settings(&db.url, dir, "200ms", 1);
    deploy(&s, &DeployOptions::default(), &mut |_| {})
        .await
        .unwrap_err();

    // Unblocked, the probe counts the NULL.
    let r = keel::doctor(&s).await.unwrap();
    let text = format!("{:?}", r.diagnoses[0].causes);
    assert!(text.contains("1 NULL value"), "{text}");

    let mut holder = keel_driver::connect(&db.url).await.unwrap();
    holder.execute("BEGIN").await.unwrap();
    holder
        .execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(40), keel::doctor(&s))
        .await
        .expect("doctor waited for the lock holder")
        .unwrap();
    let took = started.elapsed();
    holder.execute("ROLLBACK").await.unwrap();
    holder.close().await;
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert_eq!(r.exit_code(), 3);
    let text = format!("{:?}", r.diagnoses[0].causes);
    assert!(text.contains("statement timeout"), "{text}");
    assert!(!text.contains("NULL value"), "{text}");
}

/// `keel check` counts the pending migrations' lint errors in its report and exit status.
/// Before, only the CLI's text output ran lint, so `keel check --json` exited 0 where the text
/// output exited 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_report_carries_lint_and_its_exit_status() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(
        dir,
        "1_base",
        "CREATE TABLE t (id INTEGER PRIMARY KEY);\nINSERT INTO t (id) VALUES (1);\n",
    );
    let s = settings(&db.url, dir, "2s", 1);
    deploy(&s, &DeployOptions::default(), &mut |_| {})
        .await
        .unwrap();
    write(dir, "2_drop", "DROP TABLE t;\n");
    let r = keel::check(&s, &dir.join("schema.sql"), false)
        .await
        .unwrap();
    let lint = r.lint.as_ref().expect("pending migrations linted");
    assert!(
        lint.findings.iter().any(|f| f.migration == "2_drop"),
        "{:?}",
        lint.findings
    );
    assert_eq!(lint.exit_code(), 1, "{:?}", lint.findings);
    assert_eq!(r.exit_code(), 2);
}
