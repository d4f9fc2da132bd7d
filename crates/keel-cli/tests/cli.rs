//! End-to-end CLI tests: the `keel` binary against real databases, with snapshots of what users
//! read (times, temp paths and URLs filtered).
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use keel_test_support::{Backend, TestDb};
use std::path::Path;

fn write(dir: &Path, name: &str, sql: &str) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("migration.sql"), sql).unwrap();
}

fn keel(dir: &Path, url: &str) -> Command {
    let mut c = Command::cargo_bin("keel").unwrap();
    c.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .arg("--database-url")
        .arg(url);
    c
}

/// Replaces what changes from run to run: timestamps, durations, temp paths, database names.
fn filtered(text: &str, dir: &Path, db: &TestDb) -> String {
    text.replace(&db.url, "[URL]")
        .replace(&dir.display().to_string(), "[DIR]")
        .replace(&db.name, "[DB]")
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {{
        let mut s = insta::Settings::clone_current();
        s.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "[TIME]");
        s.add_filter(r"\b\d+ ms\b", "[MS]");
        s.add_filter(r"─+", "─");
        s.add_filter(r"═+", "═");
        s.add_filter(r"  +", "  ");
        s.bind(|| insta::assert_snapshot!($name, $value));
    }};
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn sqlite_main_job_with_snapshots() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let mig = dir.join("migrations");
    write(
        &mig,
        "20260101000000_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n",
    );
    write(
        &mig,
        "20260102000000_posts",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY);\nINSERT INTO nope VALUES (1);\n",
    );

    let o = keel(dir, &db.url).arg("status").output().unwrap();
    // Pending migrations: exit 2, as `prisma migrate status` (issue #13, item 15).
    assert_eq!(o.status.code(), Some(2));
    snapshot!("status_fresh", filtered(&stdout(&o), dir, &db));

    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    snapshot!("deploy_failed_stdout", filtered(&stdout(&o), dir, &db));
    snapshot!("deploy_failed_stderr", filtered(&stderr(&o), dir, &db));

    let o = keel(dir, &db.url)
        .args(["status", "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    snapshot!("status_failed", filtered(&stdout(&o), dir, &db));

    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    snapshot!("deploy_refused_k3009", filtered(&stderr(&o), dir, &db));

    let o = keel(dir, &db.url)
        .args(["resolve", "--rolled-back", "20260102000000_posts"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    write(
        &mig,
        "20260102000000_posts",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY);\n",
    );
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = keel(dir, &db.url)
        .args(["status", "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    snapshot!("status_after_fix", filtered(&stdout(&o), dir, &db));

    let o = keel(dir, &db.url)
        .args(["status", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["migrations"][1]["state"], "applied");
    assert_eq!(v["migrations"][1]["attempts"], 2);
}

#[tokio::test]
async fn deploy_json_events_and_dry_run() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = tempfile::tempdir().unwrap();
    write(
        &t.path().join("migrations"),
        "1_a",
        "CREATE TABLE a (id INT);",
    );
    let o = keel(t.path(), &db.url)
        .args(["deploy", "--dry-run"])
        .output()
        .unwrap();
    assert!(o.status.success());
    snapshot!("dry_run", filtered(&stdout(&o), t.path(), &db));
    let o = keel(t.path(), &db.url)
        .args(["deploy", "--json"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let events: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "waiting_for_lock",
            "ledger_created",
            "plan",
            "migration_started",
            "migration_applied",
            "done"
        ]
    );
}

#[test]
fn bad_url_is_coded_and_never_prints_the_password() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("migrations")).unwrap();
    for url in [
        "postgres://app:hunter2@127.0.0.1:1/db",
        "postgres://app:hunter2@[bad",
        "oracle://app:hunter2@h/db",
    ] {
        let o = keel(t.path(), url).arg("status").output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{url}");
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!all.contains("hunter2"), "{all}");
        assert!(all.contains("error[K10"), "{all}");
    }
}

#[test]
fn init_and_new() {
    let t = tempfile::tempdir().unwrap();
    let mut c = Command::cargo_bin("keel").unwrap();
    let o = c
        .current_dir(t.path())
        .env_remove("DATABASE_URL")
        .arg("init")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(t.path().join("keel.toml").is_file());
    let lock = std::fs::read_to_string(t.path().join("migrations/migration_lock.toml")).unwrap();
    assert!(lock.contains("provider = \"sqlite\""));
    let o = Command::cargo_bin("keel")
        .unwrap()
        .current_dir(t.path())
        .env_remove("DATABASE_URL")
        .args(["new", "add_users"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = Command::cargo_bin("keel")
        .unwrap()
        .current_dir(t.path())
        .env_remove("DATABASE_URL")
        .args(["new", "Bad-Name"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("K4010"));
    let dirs: Vec<_> = std::fs::read_dir(t.path().join("migrations"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .collect();
    assert_eq!(dirs.len(), 1);
    let name = dirs[0].file_name().into_string().unwrap();
    assert!(
        name.len() == 14 + "_add_users".len() && name.ends_with("_add_users"),
        "{name}"
    );
}

/// Sixteen `keel deploy` processes at once on one database: every migration applied exactly
/// once, and no process fails: the others wait for the deploy lock (issue #7).
async fn sixteen_processes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    let mig = t.path().join("migrations");
    for i in 1..=5 {
        write(
            &mig,
            &format!("{i}_m{i}"),
            &format!("CREATE TABLE t{i} (id INT);"),
        );
    }
    let bin = assert_cmd::cargo::cargo_bin("keel");
    let children: Vec<_> = (0..16)
        .map(|_| {
            std::process::Command::new(&bin)
                .current_dir(t.path())
                .env_remove("DATABASE_URL")
                .args([
                    "--database-url",
                    &db.url,
                    "--deploy-lock-timeout",
                    "60s",
                    "deploy",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied = 0;
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        applied += stdout(&o)
            .lines()
            .filter(|l| l.starts_with("applied "))
            .count();
    }
    assert_eq!(applied, 5);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM _keel_migrations").await, 5);
    assert_eq!(
        db.scalar("SELECT COUNT(DISTINCT migration_name) FROM _keel_migrations WHERE finished_at IS NOT NULL")
            .await,
        5
    );
}

#[tokio::test]
async fn sixteen_processes_postgres() {
    sixteen_processes(Backend::Postgres).await
}
#[tokio::test]
async fn sixteen_processes_mysql() {
    sixteen_processes(Backend::Mysql).await
}
#[tokio::test]
async fn sixteen_processes_sqlite() {
    sixteen_processes(Backend::Sqlite).await
}

/// `keel diff` between migrations, a live database and empty, on SQLite (shadow in memory).
#[tokio::test]
async fn diff_sources_on_sqlite() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = tempfile::tempdir().unwrap();
    let mig = t.path().join("migrations");
    write(&mig, "1_users", "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email TEXT NOT NULL);\nCREATE UNIQUE INDEX users_email_key ON users (email);\n");
    write(
        &mig,
        "2_phone",
        "ALTER TABLE users ADD COLUMN phone TEXT;\n",
    );
    let o = keel(t.path(), &db.url)
        .args([
            "diff",
            "--from",
            "empty",
            "--to",
            "migrations",
            "--exit-code",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    snapshot!("diff_empty_to_migrations", stdout(&o));
    let o = keel(t.path(), &db.url)
        .args(["diff", "--from", "empty", "--to", "migrations", "--script"])
        .output()
        .unwrap();
    snapshot!("diff_empty_to_migrations_script", stdout(&o));
    // After deploy, the database and the migrations agree; the ledger is not part of the schema.
    assert!(keel(t.path(), &db.url)
        .arg("deploy")
        .output()
        .unwrap()
        .status
        .success());
    let o = keel(t.path(), &db.url)
        .args([
            "diff",
            "--from",
            &db.url,
            "--to",
            "migrations",
            "--exit-code",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o).lines().next().unwrap_or(""),
        "no difference: the two schemas are the same"
    );
    let o = keel(t.path(), &db.url)
        .args(["diff", "--from", "ledger", "--to", &db.url, "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // A schema file: the desired state adds an index.
    std::fs::write(t.path().join("schema.sql"), "CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email TEXT NOT NULL, phone TEXT);\nCREATE UNIQUE INDEX users_email_key ON users (email);\nCREATE INDEX users_phone ON users (phone);\n").unwrap();
    let o = keel(t.path(), &db.url)
        .args(["diff", "--from", "migrations", "--to", "schema=schema.sql"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&o).lines().next().unwrap_or(""),
        "added index `users_phone` on `users`",
        "{}",
        stderr(&o)
    );
    let o = keel(t.path(), &db.url)
        .args(["diff", "--from", "nonsense", "--to", "empty"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("K4005"));
}

/// `keel drift` on each database: a column added and an index dropped by hand are reported,
/// and the revert SQL brings the database back to its history.
async fn drift_reports_hand_changes(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    let mig = t.path().join("migrations");
    write(&mig, "1_users", "CREATE TABLE users (id INT NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL);\nCREATE INDEX users_email ON users (email);\n");
    assert!(keel(t.path(), &db.url)
        .arg("deploy")
        .output()
        .unwrap()
        .status
        .success());
    let o = keel(t.path(), &db.url).arg("drift").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let drop_index = match backend {
        Backend::Mysql => "DROP INDEX users_email ON users",
        _ => "DROP INDEX users_email",
    };
    db.execute("ALTER TABLE users ADD COLUMN phone VARCHAR(20)")
        .await;
    db.execute(drop_index).await;
    let o = keel(t.path(), &db.url)
        .args(["drift", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let findings: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        findings.contains(&"column `users.phone` exists in the database but in no migration"),
        "{findings:?}"
    );
    assert!(
        findings.contains(&"index `users_email` is in the migrations but not in the database"),
        "{findings:?}"
    );
    let o = keel(t.path(), &db.url)
        .args(["status", "--drift", "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("drift: 2 difference(s)"),
        "{}",
        stdout(&o)
    );
    // Apply the revert SQL: no drift any more.
    db.execute(v["revert_sql"].as_str().unwrap()).await;
    let o = keel(t.path(), &db.url).arg("drift").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[tokio::test]
async fn drift_postgres() {
    drift_reports_hand_changes(Backend::Postgres).await
}
#[tokio::test]
async fn drift_mysql() {
    drift_reports_hand_changes(Backend::Mysql).await
}
#[tokio::test]
async fn drift_sqlite() {
    drift_reports_hand_changes(Backend::Sqlite).await
}

/// `keel baseline` on each database: an existing schema becomes a first migration, recorded as
/// applied; then status is clean, there is no drift, and a second baseline is refused.
async fn baseline_existing_database(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    db.execute("CREATE TABLE users (id INT NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL)")
        .await;
    db.execute("CREATE TABLE posts (id INT NOT NULL PRIMARY KEY, user_id INT NOT NULL, CONSTRAINT posts_user_fkey FOREIGN KEY (user_id) REFERENCES users (id))").await;
    db.execute("CREATE UNIQUE INDEX users_email_key ON users (email)")
        .await;
    db.execute("INSERT INTO users VALUES (1, 'a@example.com')")
        .await;
    // An existing, empty history (without one, deploy stops earlier: K4012, issue #13).
    std::fs::create_dir_all(t.path().join("migrations")).unwrap();
    let o = keel(t.path(), &db.url).arg("deploy").output().unwrap();
    assert!(stderr(&o).contains("K3005"), "{}", stderr(&o));
    let o = keel(t.path(), &db.url).arg("baseline").output().unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("recorded as applied"), "{}", stdout(&o));
    let o = keel(t.path(), &db.url)
        .args(["status", "--exit-code", "--drift"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM users").await,
        1,
        "rows untouched"
    );
    let o = keel(t.path(), &db.url).arg("baseline").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("K4030"), "{}", stderr(&o));
}

#[tokio::test]
async fn baseline_postgres() {
    baseline_existing_database(Backend::Postgres).await
}
#[tokio::test]
async fn baseline_mysql() {
    baseline_existing_database(Backend::Mysql).await
}
#[tokio::test]
async fn baseline_sqlite() {
    baseline_existing_database(Backend::Sqlite).await
}
