//! Locks and status (issue #13, items 6, 14-16): a migration still running is not failed,
//! `status` exits non-zero as Prisma's does, the deploy lock cannot be lost silently, a MySQL
//! `USE` is refused, and the ledger never changes name silently.
#![allow(clippy::unwrap_used)]

use keel_test_support::{keel, output_text as text, write_migration, Backend, TestDb};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_migration_is_running_not_failed() {
    for (backend, sleep) in [
        (
            Backend::Postgres,
            "-- keel:no-transaction\nCREATE TABLE a (id INT);\nSELECT pg_sleep(4);\n",
        ),
        (
            Backend::Mysql,
            "CREATE TABLE a (id INT);\nSELECT SLEEP(4);\n",
        ),
    ] {
        let db = TestDb::new(backend).await;
        let t = tempfile::tempdir().unwrap();
        write_migration(&t.path().join("migrations"), "1_slow", sleep);
        let bin = assert_cmd::cargo::cargo_bin("keel");
        let mut child = std::process::Command::new(&bin)
            .current_dir(t.path())
            .env_remove("DATABASE_URL")
            .args(["--database-url", &db.url, "deploy"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut seen = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if db.has_table("a").await {
                seen = true;
                break;
            }
        }
        assert!(seen, "{backend:?}: the deploy never started");
        let o = keel(t.path(), &db.url)
            .args(["status", "--exit-code"])
            .output()
            .unwrap();
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{backend:?}: {out}");
        assert!(
            out.contains("running") && out.contains("being applied now"),
            "{backend:?}: {out}"
        );
        assert!(!out.contains("keel repair"), "{backend:?}: {out}");
        let o = keel(t.path(), &db.url)
            .args(["--json", "status"])
            .output()
            .unwrap();
        assert!(text(&o).contains("\"state\":\"running\""), "{}", text(&o));
        assert!(child.wait().unwrap().success());
        let o = keel(t.path(), &db.url).arg("status").output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_exits_non_zero_as_prisma_does() {
    for backend in [Backend::Postgres, Backend::Mysql, Backend::Sqlite] {
        let db = TestDb::new(backend).await;
        let t = tempfile::tempdir().unwrap();
        write_migration(
            &t.path().join("migrations"),
            "1_a",
            "CREATE TABLE a (id INT);\n",
        );
        // No ledger yet, one pending migration.
        let o = keel(t.path(), &db.url).arg("status").output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{backend:?}: {}", text(&o));
        keel(t.path(), &db.url).arg("deploy").assert().success();
        let o = keel(t.path(), &db.url).arg("status").output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{backend:?}: {}", text(&o));
        write_migration(
            &t.path().join("migrations"),
            "2_b",
            "CREATE TABLE b (id INT);\n",
        );
        let o = keel(t.path(), &db.url).arg("status").output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{backend:?}: {}", text(&o));
        // `--exit-code` is still accepted.
        let o = keel(t.path(), &db.url)
            .args(["status", "--exit-code"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{backend:?}: {}", text(&o));
        write_migration(
            &t.path().join("migrations"),
            "3_bad",
            "CREATE TABLE c (id INT);\nSELECT * FROM nowhere;\n",
        );
        let _ = keel(t.path(), &db.url).arg("deploy").output().unwrap();
        if backend == Backend::Mysql {
            // Step by step: the failed attempt stays failed.
            let o = keel(t.path(), &db.url).arg("status").output().unwrap();
            assert_eq!(o.status.code(), Some(3), "{backend:?}: {}", text(&o));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_deploy_lock_stops_the_deploy() {
    for (backend, release) in [
        (Backend::Postgres, "SELECT pg_advisory_unlock_all();\n"),
        (Backend::Mysql, "SELECT RELEASE_ALL_LOCKS();\n"),
    ] {
        let db = TestDb::new(backend).await;
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("migrations");
        write_migration(&dir, "1_a", &format!("CREATE TABLE a (id INT);\n{release}"));
        write_migration(&dir, "2_b", "CREATE TABLE b (id INT);\n");
        let o = keel(t.path(), &db.url).arg("deploy").output().unwrap();
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{backend:?}: {out}");
        assert!(
            out.contains("K4081") && out.contains("1_a"),
            "{backend:?}: {out}"
        );
        assert!(
            db.has_table("a").await && !db.has_table("b").await,
            "{backend:?}"
        );
        // The first migration is recorded; nothing is stuck.
        let o = keel(t.path(), &db.url).arg("status").output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{backend:?}: {}", text(&o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mysql_use_is_refused_before_anything_runs() {
    let db = TestDb::new(Backend::Mysql).await;
    let other = TestDb::new(Backend::Mysql).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("migrations");
    write_migration(&dir, "1_a", "CREATE TABLE a (id INT);\n");
    write_migration(
        &dir,
        "2_use",
        &format!(
            "CREATE TABLE b (id INT);\nUSE {};\nCREATE TABLE c (id INT);\n",
            other.name
        ),
    );
    let o = keel(t.path(), &db.url).arg("deploy").output().unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("K4018") && out.contains("line 2"), "{out}");
    assert!(!db.has_table("a").await && !other.has_table("c").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_never_changes_name_silently() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("migrations");
    write_migration(&dir, "1_a", "CREATE TABLE a (id INT);\n");
    keel(t.path(), &db.url).arg("deploy").assert().success();
    assert!(db.has_table("_keel_migrations").await);
    std::fs::write(
        dir.join("migration_lock.toml"),
        "provider = \"postgresql\"\n",
    )
    .unwrap();
    for args in [vec!["status"], vec!["deploy"]] {
        let o = keel(t.path(), &db.url).args(&args).output().unwrap();
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(
            out.contains("K4019") && out.contains("--ledger-table _keel_migrations"),
            "{out}"
        );
    }
    assert!(!db.has_table("_prisma_migrations").await);
    let o = keel(t.path(), &db.url)
        .args(["--ledger-table", "_keel_migrations", "status"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
