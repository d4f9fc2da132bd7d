//! Lost connections mid-deploy (issue #7, item 3), on PostgreSQL and MariaDB. The connection
//! is cut by a proxy at a chosen point, as a network failure or a server restart cuts it
//! (the socket closes without a word), or the server ends keel's session (MariaDB `KILL`;
//! PostgreSQL `pg_terminate_backend` is in `engine.rs`). In every case keel exits with K1017
//! saying what is known and what is not; nothing is retried, so no step runs twice; a
//! transactional migration leaves no trace or is wholly applied; a step-by-step one leaves
//! `applied_steps_count` truthful, or, where the answer to a step was lost, a failed row that
//! `keel status` reports, the next `deploy` refuses (K3009) and `keel doctor` measures.
#![allow(clippy::unwrap_used)]

use keel::{deploy, doctor, status, Classification, DeployOptions, Settings, SettingsInput};
use keel_core::ledger::State;
use keel_test_support::proxy::{Cut, CutProxy};
use keel_test_support::{Backend, TestDb};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use keel_test_support::write_migration as write;

fn settings(url: &str, dir: &Path) -> Settings {
    Settings::resolve(
        SettingsInput {
            database_url: Some(url.to_string()),
            migrations: Some(dir.to_path_buf()),
            ..Default::default()
        },
        dir,
    )
    .unwrap()
}

fn upstream(b: Backend) -> SocketAddr {
    match b {
        Backend::Postgres => "127.0.0.1:5432".parse().unwrap(),
        _ => "127.0.0.1:3306".parse().unwrap(),
    }
}

/// The test database's URL through the proxy, in plain text.
fn through(db: &TestDb, proxy: &CutProxy) -> String {
    let (port, tls) = match db.backend {
        Backend::Postgres => (":5432/", "sslmode=disable"),
        _ => (":3306/", "ssl-mode=DISABLED"),
    };
    let url = db.url.replace(port, &format!(":{}/", proxy.port));
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{tls}")
}

const STEPS: &str = "-- keel:no-transaction\nCREATE TABLE first_t (id INT);\nCREATE TABLE second_t (id INT);\nCREATE TABLE third_t (id INT);\n";

/// Step by step, cut at step 2: `Before` = step 2 never ran; `After` = it ran but its
/// answer (and so its ledger update) was lost.
async fn step_by_step(backend: Backend, cut: Cut) {
    let db = TestDb::new(backend).await;
    let proxy = CutProxy::start(upstream(backend), "CREATE TABLE second_t", cut).await;
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "1_three", STEPS);
    let via = settings(&through(&db, &proxy), t.path());
    let e = deploy(&via, &DeployOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(proxy.fired(), "the cut happened");
    assert_eq!(e.code(), "K1017", "{e}");
    let text = e.to_string();
    assert!(text.contains("applied_steps_count"), "{text}");
    assert!(text.contains("may or may not have"), "{text}");

    // What the database holds, read directly.
    let direct = settings(&db.url, t.path());
    assert!(db.has_table("first_t").await);
    assert_eq!(db.has_table("second_t").await, cut == Cut::After);
    assert!(!db.has_table("third_t").await, "nothing ran after the cut");
    let st = status(&direct).await.unwrap();
    let entry = st.reconciled.get("1_three").unwrap();
    assert_eq!(entry.state, State::Failed, "{}", st.summary());
    assert_eq!(
        entry.row.as_ref().unwrap().applied_steps_count,
        1,
        "the ledger counts the steps known to have taken effect"
    );
    assert_eq!(st.exit_code(), 3);
    let again = deploy(&direct, &DeployOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert_eq!(
        again.code(),
        "K3009",
        "the next deploy refuses until resolved"
    );
    // doctor measures where the database really is, whatever the ledger says.
    let report = doctor(&direct).await.unwrap();
    let d = report.diagnoses.first().unwrap();
    let applied = if cut == Cut::After { 2 } else { 1 };
    assert_eq!(
        d.classification,
        Classification::PartWay { applied },
        "{d:?}"
    );
}

/// One transaction: `Before` = nothing reached the server (no trace, still pending);
/// `After` = the whole batch ran and committed with its ledger row (applied).
async fn transactional(cut: Cut) {
    let db = TestDb::new(Backend::Postgres).await;
    let proxy = CutProxy::start(upstream(Backend::Postgres), "CREATE TABLE tx_t", cut).await;
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "1_tx",
        "CREATE TABLE tx_t (id INT);\nINSERT INTO tx_t VALUES (1);\n",
    );
    let via = settings(&through(&db, &proxy), t.path());
    let e = deploy(&via, &DeployOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(proxy.fired());
    assert_eq!(e.code(), "K1017", "{e}");
    assert!(e.to_string().contains("one transaction"), "{e}");
    let direct = settings(&db.url, t.path());
    let st = status(&direct).await.unwrap();
    let state = st.reconciled.get("1_tx").unwrap().state;
    match cut {
        Cut::Before => {
            assert!(!db.has_table("tx_t").await, "no trace");
            assert_eq!(state, State::Pending);
            let r = deploy(&direct, &DeployOptions::default(), &mut |_| {})
                .await
                .unwrap();
            assert_eq!(r.applied, vec!["1_tx"]);
        }
        Cut::After => {
            assert_eq!(state, State::Applied, "{}", st.summary());
            let r = deploy(&direct, &DeployOptions::default(), &mut |_| {})
                .await
                .unwrap();
            assert!(r.applied.is_empty(), "applied once, not again");
        }
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM tx_t").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_step_by_step_cut_before_a_step() {
    step_by_step(Backend::Postgres, Cut::Before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_step_by_step_cut_after_a_step_ran() {
    step_by_step(Backend::Postgres, Cut::After).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_step_by_step_cut_before_a_step() {
    step_by_step(Backend::Mysql, Cut::Before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_step_by_step_cut_after_a_step_ran() {
    step_by_step(Backend::Mysql, Cut::After).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_transaction_cut_before_it_reached_the_server() {
    transactional(Cut::Before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_transaction_cut_after_it_committed() {
    transactional(Cut::After).await;
}

/// MariaDB ends keel's session (`KILL`) while a step runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_session_killed_mid_step() {
    let db = TestDb::new(Backend::Mysql).await;
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "1_sleepy",
        "CREATE TABLE first_t (id INT);\nSELECT SLEEP(5);\nCREATE TABLE never_t (id INT);\n",
    );
    let s = settings(&db.url, t.path());
    let killer = {
        let url = db.url.clone();
        tokio::spawn(async move {
            let mut d = keel::keel_driver::connect(&url).await.unwrap();
            for _ in 0..100 {
                let rows = d
                    .query_text("SELECT CAST(ID AS CHAR) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(5)%'")
                    .await
                    .unwrap();
                if let Some(id) = rows.first().and_then(|r| r[0].clone()) {
                    d.execute(&format!("KILL {id}")).await.unwrap();
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            false
        })
    };
    let e = deploy(&s, &DeployOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(killer.await.unwrap(), "the session was found and killed");
    assert_eq!(e.code(), "K1017", "{e}");
    assert!(db.has_table("first_t").await);
    assert!(!db.has_table("never_t").await);
    let st = status(&s).await.unwrap();
    let entry = st.reconciled.get("1_sleepy").unwrap();
    assert_eq!(entry.state, State::Failed);
    assert_eq!(entry.row.as_ref().unwrap().applied_steps_count, 1);
    assert_eq!(
        deploy(&s, &DeployOptions::default(), &mut |_| {})
            .await
            .unwrap_err()
            .code(),
        "K3009"
    );
}
