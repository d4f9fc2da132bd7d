//! The deploy lock behind a pooler in transaction mode, where a statement may land on another
//! server backend than the one before it (a real PgBouncer on loopback).
#![allow(clippy::unwrap_used)]

use super::PgDriver;
use crate::{parse_url, Driver, DriverError, PG_LOCK_KEY};
use keel_test_support::pgbouncer::PgBouncer;
use keel_test_support::{Backend, TestDb};
use sqlx::{Connection, Row};
use std::time::Duration;

/// Advisory locks granted in `db`.
async fn advisory_locks(db: &TestDb) -> i64 {
    db.scalar(
        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .await
}

async fn pid_of(c: &mut sqlx::PgConnection) -> i32 {
    let row = sqlx::Executor::fetch_one(&mut *c, "SELECT pg_backend_pid()")
        .await
        .unwrap();
    row.get(0)
}

/// A lucky session check let the lock be taken on backend X; the connection then moved to
/// another backend (as CI saw once in 16 concurrent deploys through transaction mode). The
/// unlock must still release the lock on X, which the pooler keeps: left there it would
/// block every later deploy, direct ones too.
#[tokio::test]
async fn unlock_after_the_connection_moved_releases_the_lock_on_its_backend() {
    let Some(b) = PgBouncer::start("transaction", 4) else {
        return;
    };
    let db = TestDb::new(Backend::Postgres).await;
    let url = b.url_for(&db.url);
    let mut driver = PgDriver::connect(&parse_url(&url).unwrap()).await.unwrap();
    let row = sqlx::Executor::fetch_one(
        &mut driver.conn,
        format!(
            "SELECT pg_backend_pid(), set_config('keel.session', 'm1', false), pg_try_advisory_lock({PG_LOCK_KEY})"
        )
        .as_str(),
    )
    .await
    .unwrap();
    let x: i32 = row.get(0);
    assert!(row.get::<bool, _>(2));
    driver.session = Some((x, "m1".into()));
    driver.lock_attempted = true;
    // Hold backend X in an open transaction, so that the driver's next statement lands
    // elsewhere; let it go shortly after, while the unlock looks for it.
    let mut blockers = Vec::new();
    loop {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::Executor::execute(&mut c, "BEGIN").await.unwrap();
        let here = pid_of(&mut c).await;
        blockers.push(c);
        if here == x {
            break;
        }
        assert!(blockers.len() < 4, "backend {x} not handed out");
    }
    let x_holder = blockers.pop().unwrap();
    let free_others = async move {
        for mut c in blockers {
            sqlx::Executor::execute(&mut c, "ROLLBACK").await.unwrap();
            c.close().await.unwrap();
        }
    };
    free_others.await;
    let release = tokio::spawn(async move {
        let mut c = x_holder;
        tokio::time::sleep(Duration::from_millis(300)).await;
        sqlx::Executor::execute(&mut c, "ROLLBACK").await.unwrap();
        c.close().await.unwrap();
    });
    driver.unlock().await.unwrap();
    release.await.unwrap();
    assert_eq!(
        advisory_locks(&db).await,
        0,
        "the deploy lock is released on the backend that took it"
    );
}

/// A lock attempt that timed out (another deploy holds the lock) leaves a session whose
/// unlock succeeds and releases nothing of the holder's; once the holder is gone, the lock
/// is taken and given back normally.
#[tokio::test]
async fn unlock_without_the_lock_touches_no_other_session() {
    let db = TestDb::new(Backend::Postgres).await;
    let mut holder = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::Executor::execute(
        &mut holder,
        format!("SELECT pg_advisory_lock({PG_LOCK_KEY})").as_str(),
    )
    .await
    .unwrap();
    let mut driver = PgDriver::connect(&parse_url(&db.url).unwrap())
        .await
        .unwrap();
    let err = driver.lock(Duration::from_millis(100)).await.unwrap_err();
    assert!(matches!(err, DriverError::LockTimeout { .. }), "{err}");
    driver.unlock().await.unwrap();
    assert_eq!(
        advisory_locks(&db).await,
        1,
        "the other session's lock is kept"
    );
    let mut again = PgDriver::connect(&parse_url(&db.url).unwrap())
        .await
        .unwrap();
    drop(holder);
    again.lock(Duration::from_secs(5)).await.unwrap();
    again.unlock().await.unwrap();
}
