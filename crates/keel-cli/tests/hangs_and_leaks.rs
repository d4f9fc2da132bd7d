//! Never hang, never panic, leave nothing behind (issue #13, items 10-13): a NUL byte in a
//! migration, a ledger timestamp that is no time, a closed stdout, terminal control sequences
//! from the server, and SIGTERM while a shadow database exists.
#![allow(clippy::unwrap_used)]

use keel_test_support::{keel, output_text as text, write_migration, Backend, TestDb};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_byte_is_a_coded_file_error_before_anything_runs() {
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
        let db = TestDb::new(backend).await;
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("migrations");
        write_migration(&dir, "1_init", "CREATE TABLE a (id INT);\n");
        std::fs::create_dir_all(dir.join("2_nul")).unwrap();
        std::fs::write(
            dir.join("2_nul/migration.sql"),
            b"CREATE TABLE b (id INT);\n-- x\0y\nCREATE TABLE c (id INT);\0",
        )
        .unwrap();
        std::fs::write(t.path().join("schema.sql"), b"CREATE TABLE a (id INT);\0").unwrap();
        for args in [
            vec!["deploy"],
            vec!["status"],
            vec!["lint"],
            vec!["diff", "--from", "empty", "--to", "schema=schema.sql"],
        ] {
            let o = keel(t.path(), &db.url).args(&args).output().unwrap();
            let out = text(&o);
            assert_eq!(o.status.code(), Some(1), "{backend:?} {args:?}: {out}");
            assert!(out.contains("K4017"), "{backend:?} {args:?}: {out}");
            assert!(!out.contains('\0'), "{out}");
        }
        assert!(out_has(
            &keel(t.path(), &db.url).arg("deploy").output().unwrap(),
            "line 2, column 5"
        ));
        assert!(!db.has_table("a").await, "{backend:?}: nothing ran");
    }
}

fn out_has(o: &std::process::Output, s: &str) -> bool {
    text(o).contains(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_time_that_is_no_time_is_k1010_naming_the_row() {
    for (backend, bad) in [
        (
            Backend::Postgres,
            "UPDATE _keel_migrations SET finished_at = 'infinity'",
        ),
        (
            Backend::Postgres,
            "UPDATE _keel_migrations SET started_at = '-infinity'",
        ),
        (
            Backend::Sqlite,
            "UPDATE _keel_migrations SET finished_at = 'not a time'",
        ),
    ] {
        let db = TestDb::new(backend).await;
        let t = tempfile::tempdir().unwrap();
        write_migration(
            &t.path().join("migrations"),
            "1_init",
            "CREATE TABLE a (id INT);\n",
        );
        keel(t.path(), &db.url).arg("deploy").assert().success();
        db.execute(bad).await;
        for args in [vec!["status"], vec!["deploy"], vec!["doctor"]] {
            let o = keel(t.path(), &db.url).args(&args).output().unwrap();
            let out = text(&o);
            assert_eq!(o.status.code(), Some(1), "{bad} {args:?}: {out}");
            assert!(
                out.contains("K1010") && out.contains("1_init"),
                "{bad} {args:?}: {out}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_changes_nothing_the_command_does() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    for i in 1..=30 {
        write_migration(
            &t.path().join("migrations"),
            &format!("{i:03}_m"),
            &format!("CREATE TABLE t{i} (id INT);\n"),
        );
    }
    let bin = assert_cmd::cargo::cargo_bin("keel");
    for args in [
        vec!["deploy"],
        vec!["status"],
        vec!["deploy", "--dry-run"],
        vec!["doctor"],
    ] {
        let mut child = std::process::Command::new(&bin)
            .current_dir(t.path())
            .env_remove("DATABASE_URL")
            .args(["--database-url", &db.url])
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // `| head -0`: the reader is gone before keel writes anything.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_ne!(o.status.code(), Some(101), "{args:?}: {err}");
        if args == ["deploy"] {
            assert_eq!(o.status.code(), Some(0), "{err}");
        }
    }
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM _keel_migrations WHERE finished_at IS NOT NULL")
            .await,
        30
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_control_sequences_are_escaped() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    write_migration(
        &t.path().join("migrations"),
        "1_evil",
        "CREATE TABLE a (id INT);\nSELECT * FROM \"\u{1b}[2J\u{1b}]0;owned\u{7}\";\n",
    );
    let o = keel(t.path(), &db.url).arg("deploy").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let raw = [o.stdout.clone(), o.stderr.clone()].concat();
    assert!(!raw.contains(&0x1b), "{}", text(&o));
    assert!(text(&o).contains("\\u{1b}[2J"), "{}", text(&o));
    let o = keel(t.path(), &db.url).arg("status").output().unwrap();
    let raw = [o.stdout.clone(), o.stderr.clone()].concat();
    assert!(!raw.contains(&0x1b) && !raw.contains(&0x07), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drops_the_shadow_database() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let marker = format!("{:.6}", rand_fraction());
    write_migration(
        &t.path().join("migrations"),
        "1_slow",
        &format!("CREATE TABLE a (id INT);\nSELECT pg_sleep(20 + {marker});\n"),
    );
    let bin = assert_cmd::cargo::cargo_bin("keel");
    let mut child = std::process::Command::new(&bin)
        .current_dir(t.path())
        .env_remove("DATABASE_URL")
        .args([
            "--database-url",
            &db.url,
            "diff",
            "--from",
            "migrations",
            "--to",
            "empty",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the replay sleeps in its shadow database, and learn the shadow's name.
    let admin = db.url.clone();
    let mut shadow = String::new();
    for _ in 0..200 {
        let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .unwrap();
        let name: Option<String> = sqlx::query_scalar(
            "SELECT datname::text FROM pg_stat_activity WHERE query LIKE $1 AND datname LIKE 'keel_shadow_%'",
        )
        .bind(format!("%pg_sleep(20 + {marker})%"))
        .fetch_optional(&mut c)
        .await
        .unwrap();
        if let Some(n) = name {
            shadow = n;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!shadow.is_empty(), "the replay never reached its sleep");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let started = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    assert!(started.elapsed() < Duration::from_secs(15));
    let left = db
        .scalar(&format!(
            "SELECT COUNT(*) FROM pg_database WHERE datname = '{shadow}'"
        ))
        .await;
    assert_eq!(left, 0, "{shadow} left behind");
}

fn rand_fraction() -> f64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    f64::from(n % 1_000_000) / 1_000_000.0
}
