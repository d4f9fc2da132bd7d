//! Lock waits under contention (issue #7, item 1): a session holds a lock on a table while
//! keel deploys an `ALTER TABLE` on it. keel's step waits at most `lock_timeout`, so the
//! application's queries (which queue behind the waiting DDL) are never blocked for longer;
//! keel retries with backoff and succeeds once the holder releases, or gives up naming it with
//! K4080, recording an attempt that took no effect (failed and rolled back) so the next deploy
//! tries again.
#![allow(clippy::unwrap_used)]

use keel::{deploy, status, DeployOptions, Event, Settings, SettingsInput};
use keel_core::ledger::State;
use keel_test_support::{Backend, TestDb};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keel_test_support::write_migration as write;

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

/// A session that holds a lock on `t` (an open transaction that read it) until released.
async fn hold(url: &str) -> Box<dyn keel_driver::Driver> {
    let mut d = keel_driver::connect(url).await.unwrap();
    d.execute("BEGIN").await.unwrap();
    d.execute("SELECT * FROM t").await.unwrap();
    d
}

/// The application: reads `t` in a loop until `stop`, returning the slowest read (ms).
fn application(url: String, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<(u128, usize)> {
    tokio::spawn(async move {
        let mut d = keel_driver::connect(&url).await.unwrap();
        let (mut worst, mut n) = (0u128, 0usize);
        while !stop.load(Ordering::Relaxed) {
            let start = Instant::now();
            d.query_text("SELECT COUNT(*) FROM t").await.unwrap();
            worst = worst.max(start.elapsed().as_millis());
            n += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        d.close().await;
        (worst, n)
    })
}

async fn base(db: &TestDb, dir: &Path) {
    write(
        dir,
        "1_base",
        "CREATE TABLE t (id INT PRIMARY KEY, v INT);\nINSERT INTO t (id, v) VALUES (1, 1), (2, 2);\n",
    );
    let s = settings(&db.url, dir, "2s", 1);
    deploy(&s, &DeployOptions::default(), &mut |_| {})
        .await
        .unwrap();
}

async fn waits_are_bounded_and_retried(backend: Backend, lock_timeout_ms: u64) {
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    base(&db, t.path()).await;
    write(t.path(), "2_alter", "ALTER TABLE t ADD COLUMN w INT;\n");
    let s = settings(&db.url, t.path(), &format!("{lock_timeout_ms}ms"), 8);

    let holder = hold(&db.url).await;
    let stop = Arc::new(AtomicBool::new(false));
    let app = application(db.url.clone(), stop.clone());
    // The holder commits 1.5 s after keel first reported waiting for it (however long keel
    // took to get there on a loaded machine), so keel waits at least twice.
    let (waited_tx, waited_rx) = tokio::sync::oneshot::channel::<()>();
    let release = tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(30), waited_rx).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let mut h = holder;
        h.execute("COMMIT").await.unwrap();
        h.close().await;
    });
    let mut waited_tx = Some(waited_tx);
    let mut waits = Vec::new();
    let started = Instant::now();
    let r = deploy(&s, &DeployOptions::default(), &mut |e| {
        if let Event::LockWait { holders, .. } = e {
            waits.push(holders.clone());
            if let Some(tx) = waited_tx.take() {
                let _ = tx.send(());
            }
        }
    })
    .await;
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (worst, reads) = app.await.unwrap();
    release.await.unwrap();
    let r = r.unwrap();
    assert_eq!(r.applied, vec!["2_alter"]);
    assert!(!waits.is_empty(), "keel never waited for the holder");
    assert!(
        waits[0].iter().any(|h| h.contains("transaction open for")),
        "the wait does not name the holder: {waits:?}"
    );
    println!(
        "{backend:?}: lock_timeout {lock_timeout_ms} ms, {} retries, deploy {} ms, {reads} application reads, worst read {worst} ms",
        waits.len(),
        took.as_millis()
    );
    assert!(
        worst <= u128::from(lock_timeout_ms) + 100,
        "an application read waited {worst} ms (lock_timeout {lock_timeout_ms} ms)"
    );
    assert!(db.has_column("t", "w").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_waits_are_bounded_and_retried() {
    waits_are_bounded_and_retried(Backend::Postgres, 500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_waits_are_bounded_and_retried() {
    // MySQL/MariaDB lock waits are whole seconds.
    waits_are_bounded_and_retried(Backend::Mysql, 1000).await;
}

/// The holder never lets go: keel gives up with K4080 naming it; the ledger row records the
/// attempt as failed and rolled back, so once the holder is gone a plain deploy applies it.
async fn gives_up_naming_the_holder(backend: Backend, no_transaction: bool) {
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    base(&db, t.path()).await;
    let directive = if no_transaction {
        "-- keel:no-transaction\n"
    } else {
        ""
    };
    write(
        t.path(),
        "2_alter",
        &format!("{directive}ALTER TABLE t ADD COLUMN w INT;\nCREATE INDEX t_w ON t (w);\n"),
    );
    let s = settings(&db.url, t.path(), "300ms", 2);
    let holder = hold(&db.url).await;
    let mut waits = 0;
    let e = deploy(&s, &DeployOptions::default(), &mut |e| {
        if matches!(e, Event::LockWait { .. }) {
            waits += 1;
        }
    })
    .await
    .unwrap_err();
    assert_eq!(e.code(), "K4080", "{e}");
    assert_eq!(waits, 1, "2 attempts = 1 wait");
    let text = e.to_string();
    assert!(text.contains("gave up after 2 attempts"), "{text}");
    assert!(text.contains("transaction open for"), "{text}");
    assert!(!db.has_column("t", "w").await);
    let st = status(&s).await.unwrap();
    let entry = st.reconciled.get("2_alter").unwrap();
    assert_eq!(entry.state, State::RolledBack, "{}", st.summary());
    let logs = entry.row.as_ref().unwrap().logs.clone().unwrap();
    assert!(logs.contains("Gave up after 2 attempts"), "{logs}");
    assert!(logs.contains("Locks held by: "), "{logs}");

    let mut h = holder;
    h.execute("COMMIT").await.unwrap();
    h.close().await;
    let r = deploy(&s, &DeployOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(r.applied, vec!["2_alter"]);
    assert_eq!(status(&s).await.unwrap().exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_gives_up_naming_the_holder() {
    gives_up_naming_the_holder(Backend::Postgres, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_step_by_step_gives_up_naming_the_holder() {
    gives_up_naming_the_holder(Backend::Postgres, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_gives_up_naming_the_holder() {
    gives_up_naming_the_holder(Backend::Mysql, false).await;
}

/// A step past the first that times out on every attempt leaves the migration part-way: the
/// ledger says failed with the steps that took effect, and names the holder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_way_lock_failure_is_recorded_failed() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    base(&db, t.path()).await;
    write(
        t.path(),
        "2_two",
        "-- keel:no-transaction\nCREATE TABLE u (id INT);\nALTER TABLE t ADD COLUMN w INT;\n",
    );
    let s = settings(&db.url, t.path(), "200ms", 2);
    let holder = hold(&db.url).await;
    let e = deploy(&s, &DeployOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.code(), "K3018", "{e}");
    let st = status(&s).await.unwrap();
    let row = st.reconciled.get("2_two").unwrap().row.clone().unwrap();
    assert_eq!(row.applied_steps_count, 1);
    assert!(row.rolled_back_at.is_none());
    assert!(
        row.logs.unwrap().contains("Gave up after 2 attempts"),
        "logs name the attempts"
    );
    let mut h = holder;
    h.execute("COMMIT").await.unwrap();
    h.close().await;
}
