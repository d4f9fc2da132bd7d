//! `keel doctor` and `keel repair` end to end: a `keel deploy` process killed with SIGKILL at a
//! step boundary on each database, every doctor finding, and snapshots of what users read.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use keel_test_support::{Backend, TestDb};
use std::path::Path;
use std::time::{Duration, Instant};

fn write(dir: &Path, name: &str, sql: &str) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("migration.sql"), sql).unwrap();
}

fn keel(dir: &Path, url: &str) -> Command {
    let mut c = Command::cargo_bin("keel").unwrap();
    c.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("SHADOW_DATABASE_URL")
        .env("NO_COLOR", "1")
        .arg("--database-url")
        .arg(url)
        .arg("--migrations")
        .arg(dir.join("migrations"));
    c
}

fn out(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn filtered(text: &str, dir: &Path, db: &TestDb) -> String {
    text.replace(&db.url, "[URL]")
        .replace(&dir.display().to_string(), "[DIR]")
        .replace(&db.name, "[DB]")
}

/// A statement that takes about two seconds and changes no schema.
fn slow(b: Backend) -> &'static str {
    match b {
        Backend::Postgres => "SELECT pg_sleep(2)",
        Backend::Mysql => "SELECT SLEEP(2)",
        Backend::Sqlite => "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c",
    }
}

/// Waits until `sql` (a COUNT) returns at least 1.
async fn wait_for(db: &TestDb, sql: &str) {
    let start = Instant::now();
    while count(db, sql).await < 1 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {sql}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of a COUNT query, 0 while it fails (the ledger table may not exist yet).
async fn count(db: &TestDb, sql: &str) -> i64 {
    let Ok(mut d) = keel_driver::connect(&db.url).await else {
        return 0;
    };
    let v = d.query_text(sql).await.ok().and_then(|r| {
        r.first()
            .and_then(|row| row.first().cloned().flatten())
            .and_then(|v| v.parse().ok())
    });
    d.close().await;
    v.unwrap_or(0)
}

/// Starts `keel deploy`, kills it with SIGKILL once `ready` holds, and waits until the
/// server has let go of the killed session.
async fn deploy_and_kill(dir: &Path, db: &TestDb, ready: &str) {
    let bin = assert_cmd::cargo::cargo_bin("keel");
    let mut child = std::process::Command::new(bin)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .arg("--database-url")
        .arg(&db.url)
        .arg("--migrations")
        .arg(dir.join("migrations"))
        .arg("deploy")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(db, ready).await;
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    // The server finishes the running statement before it notices the client is gone.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    if db.backend == Backend::Postgres {
        wait_none(db, &format!("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '{}' AND application_name = 'keel' AND pid <> pg_backend_pid()", db.name)).await;
    }
}

async fn wait_none(db: &TestDb, sql: &str) {
    let start = Instant::now();
    while count(db, sql).await > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {sql}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sigkill_at_step_boundaries(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let mig = dir.join("migrations");
    write(
        &mig,
        "1_base",
        "CREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO a (id) VALUES (1), (2), (3);\n",
    );
    let slow = slow(backend);
    write(
        &mig,
        "2_steps",
        &format!(
            "-- keel:no-transaction\nCREATE TABLE b (id INT);\n{slow};\nCREATE TABLE c (id INT);\n"
        ),
    );
    // Killed while step 2 runs, after step 1 was recorded.
    deploy_and_kill(
        dir,
        &db,
        "SELECT COUNT(*) FROM _keel_migrations WHERE migration_name = '2_steps' AND applied_steps_count = 1",
    )
    .await;
    let o = keel(dir, &db.url)
        .args(["status", "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    assert!(out(&o).contains("failed"), "{}", out(&o));
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    assert!(
        out(&o).contains("part-way: step 1 of 3 took effect; step 2 did not"),
        "{}",
        out(&o)
    );
    // Issue #14, item 4: killed, not rejected: no cause to fix.
    assert!(
        out(&o).contains("no error was recorded: the deploy was interrupted")
            && !out(&o).contains("fix the cause"),
        "{}",
        out(&o)
    );
    // Issue #14, item 4: marking it rolled back would re-run step 1 on a schema that has it.
    let o = keel(dir, &db.url)
        .args(["resolve", "--rolled-back", "2_steps"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("K3013") && out(&o).contains("keel repair 2_steps --revert"),
        "{}",
        out(&o)
    );
    let o = keel(dir, &db.url)
        .args(["repair", "2_steps", "--finish", "--yes"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    assert!(db.has_table("c").await);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM a").await, 3);
    let o = keel(dir, &db.url)
        .args(["status", "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    if backend != Backend::Mysql {
        // A transactional migration killed mid-way leaves no trace: pending, then deployable.
        write(
            &mig,
            "3_tx",
            &format!("CREATE TABLE d (id INT);\n{slow};\nCREATE TABLE e (id INT);\n"),
        );
        let ready = match backend {
            Backend::Postgres => format!("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '{}' AND application_name = 'keel' AND pid <> pg_backend_pid() AND query LIKE '%CREATE TABLE d%'", db.name),
            _ => "SELECT 1".to_string(),
        };
        if backend == Backend::Sqlite {
            // The whole migration is one statement batch; give it time to start.
            let bin = assert_cmd::cargo::cargo_bin("keel");
            let mut child = std::process::Command::new(bin)
                .arg("--database-url")
                .arg(&db.url)
                .arg("--migrations")
                .arg(&mig)
                .arg("deploy")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            tokio::time::sleep(Duration::from_millis(700)).await;
            child.kill().unwrap();
            let _ = child.wait();
        } else {
            deploy_and_kill(dir, &db, &ready).await;
        }
        // Either the server finished the whole transaction before it noticed the client was
        // gone (PostgreSQL runs the one-query batch to its COMMIT), or nothing of it remains;
        // never a half state, and status says which.
        let o = keel(dir, &db.url)
            .args(["status", "--exit-code"])
            .output()
            .unwrap();
        let (d, e) = (db.has_table("d").await, db.has_table("e").await);
        match o.status.code() {
            Some(0) => assert!(d && e, "applied means both tables: {}", out(&o)),
            Some(2) => {
                assert!(!d && !e, "pending means nothing of it: {}", out(&o));
                let o = keel(dir, &db.url).arg("doctor").output().unwrap();
                assert_eq!(o.status.code(), Some(2), "{}", out(&o));
                assert!(
                    out(&o).contains("info[K4041]: 1 migration(s) pending"),
                    "{}",
                    out(&o)
                );
            }
            other => panic!("status {other:?}: {}", out(&o)),
        }
        let o = keel(dir, &db.url).arg("deploy").output().unwrap();
        assert!(o.status.success(), "{}", out(&o));
        assert!(db.has_table("e").await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_postgres() {
    sigkill_at_step_boundaries(Backend::Postgres).await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mysql() {
    sigkill_at_step_boundaries(Backend::Mysql).await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_sqlite() {
    sigkill_at_step_boundaries(Backend::Sqlite).await;
}

#[tokio::test]
async fn doctor_findings_on_sqlite_with_snapshots() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let mig = dir.join("migrations");
    // Healthy: nothing applied yet → pending.
    write(
        &mig,
        "1_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n",
    );
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    insta::assert_snapshot!("doctor_pending", filtered(&out(&o), dir, &db));
    keel(dir, &db.url).arg("deploy").assert().success();
    // The application's rows (not the history's: a history whose own rows break a later
    // migration does not replay, and doctor reports that as K3006).
    db.execute("INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, 'a@x'), (3, NULL)")
        .await;
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    insta::assert_snapshot!("doctor_healthy", filtered(&out(&o), dir, &db));

    // A part-way failure: the unique index meets duplicates.
    write(&mig, "2_email", "-- keel:no-transaction\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\nCREATE UNIQUE INDEX users_email_key ON users (email);\nCREATE INDEX notes_body ON notes (body);\n");
    keel(dir, &db.url).arg("deploy").assert().code(1);
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    insta::assert_snapshot!("doctor_part_way", filtered(&out(&o), dir, &db));
    let o = keel(dir, &db.url)
        .args(["--json", "doctor"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["exit_code"], 3);
    assert_eq!(v["diagnoses"][0]["classification"]["state"], "part_way");
    assert_eq!(v["diagnoses"][0]["classification"]["applied"], 1);

    // Not on a terminal and without --yes: refused, nothing changed.
    let o = keel(dir, &db.url)
        .args(["repair", "2_email", "--finish"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("error[K4052]"), "{}", out(&o));
    let o = keel(dir, &db.url)
        .args(["repair", "2_email", "--finish", "--dry-run"])
        .output()
        .unwrap();
    assert!(o.status.success());
    insta::assert_snapshot!("repair_finish_dry_run", filtered(&out(&o), dir, &db));
    // Finishing without fixing the data fails in its transaction and changes nothing.
    let o = keel(dir, &db.url)
        .args(["repair", "2_email", "--finish", "--yes"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("error[K4053]"), "{}", out(&o));
    assert!(out(&o).contains("nothing changed"), "{}", out(&o));
    db.execute("UPDATE users SET email = 'b@x' WHERE id = 2")
        .await;
    let o = keel(dir, &db.url)
        .args(["repair", "2_email", "--finish", "--yes"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(db.scalar("SELECT COUNT(*) FROM users").await, 3);
    keel(dir, &db.url)
        .args(["status", "--exit-code"])
        .assert()
        .code(0);

    // Drift by hand.
    db.execute("ALTER TABLE users ADD COLUMN phone TEXT").await;
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(out(&o).contains("warning[K4040]"), "{}", out(&o));
    assert!(
        out(&o).contains("column `users.phone` exists in the database but in no migration"),
        "{}",
        out(&o)
    );

    // A modified migration.
    write(
        &mig,
        "1_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n",
    );
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    assert!(out(&o).contains("warning[K4001]"), "{}", out(&o));
}

#[tokio::test]
async fn repair_revert_refuses_to_drop_data_without_the_flag() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let mig = dir.join("migrations");
    write(&mig, "1_users", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\nINSERT INTO users (id, email) VALUES (1, 'a@x'), (2, 'a@x');\n");
    write(&mig, "2_archive", "-- keel:no-transaction\nCREATE TABLE archive (id INTEGER PRIMARY KEY, email TEXT);\nINSERT INTO archive SELECT id, email FROM users;\nCREATE UNIQUE INDEX users_email_key ON users (email);\n");
    keel(dir, &db.url).arg("deploy").assert().code(1);
    let o = keel(dir, &db.url)
        .args(["repair", "2_archive", "--revert", "--yes"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("error[K4051]"), "{}", out(&o));
    assert!(
        out(&o).contains("table \"archive\" (2 rows)"),
        "{}",
        out(&o)
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM archive").await,
        2,
        "nothing dropped"
    );
    let o = keel(dir, &db.url)
        .args([
            "repair",
            "2_archive",
            "--revert",
            "--yes",
            "--allow-data-loss",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    assert!(!db.has_table("archive").await);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM users").await, 2);
}

#[tokio::test]
async fn doctor_names_the_lock_holder_and_a_database_without_ledger() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    db.execute("CREATE TABLE legacy (id INT)").await;
    let mut holder = keel_driver::connect(&db.url).await.unwrap();
    holder
        .execute("SELECT pg_advisory_lock(72707369)")
        .await
        .unwrap();
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let text = out(&o);
    assert!(
        text.contains("warning[K1002]: the deploy lock is held by PostgreSQL backend pid"),
        "{text}"
    );
    assert!(
        text.contains("warning[K3005]: the database has 1 table but no ledger"),
        "{text}"
    );
    assert!(text.contains("keel baseline"), "{text}");
    holder.close().await;
}

#[tokio::test]
async fn lint_formats_deploy_gate_and_reset() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let mig = dir.join("migrations");
    write(
        &mig,
        "1_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, phone TEXT);\n",
    );
    keel(dir, &db.url).arg("deploy").assert().success();
    db.execute("INSERT INTO users (id, email, phone) VALUES (1, 'a@x', '555'), (2, 'b@x', NULL)")
        .await;
    write(
        &mig,
        "2_drop_phone",
        "ALTER TABLE users DROP COLUMN phone;\n",
    );
    // lint: error with the exact count, exit 1; GitHub annotations at file:line.
    let o = keel(dir, &db.url).arg("lint").output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains(
            "error[drop-column]: drops column `users.phone`, which holds 1 non-NULL value"
        ),
        "{}",
        out(&o)
    );
    let o = keel(dir, &db.url)
        .args(["lint", "--format", "github"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.starts_with("::error file="), "{text}");
    assert!(
        text.contains("2_drop_phone/migration.sql,line=1,title=keel drop-column::"),
        "{text}"
    );
    let o = keel(dir, &db.url)
        .args(["--json", "lint"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"][0]["id"], "drop-column");
    assert_eq!(v["findings"][0]["rows"], 1);
    // The deploy gate: refused, nothing applied; --dry-run lists it; the flag accepts it.
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("error[K4070]"), "{}", out(&o));
    assert!(db.has_column("users", "phone").await, "nothing applied");
    let o = keel(dir, &db.url)
        .args(["deploy", "--dry-run"])
        .output()
        .unwrap();
    assert!(
        out(&o).contains("-- data loss (deploy refuses without --allow-data-loss): 2_drop_phone"),
        "{}",
        out(&o)
    );
    // An allow directive with a reason: lint lists it as allowed and exits 0; deploy goes on.
    write(&mig, "2_drop_phone", "-- keel:allow drop-column reason=\"moved to profiles\"\nALTER TABLE users DROP COLUMN phone;\n");
    let o = keel(dir, &db.url).arg("lint").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains("allowed by `-- keel:allow drop-column`: moved to profiles"),
        "{}",
        out(&o)
    );
    keel(dir, &db.url).arg("deploy").assert().success();
    assert!(!db.has_column("users", "phone").await);

    // reset: a SQLite file outside the project is refused; inside, it needs --yes off a terminal.
    let o = keel(dir, &db.url)
        .args(["reset", "--yes"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("error[K4071]"), "{}", out(&o));
    // The project is the directory of keel.toml (issue #13, item 2).
    std::fs::write(dir.join("keel.toml"), "").unwrap();
    let local = format!("sqlite://{}/dev.db?mode=rwc", dir.display());
    keel(dir, &local).arg("deploy").assert().success();
    let o = keel(dir, &local).arg("reset").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("error[K4072]"), "{}", out(&o));
    assert!(out(&o).contains("table users (0 rows)"), "{}", out(&o));
    let o = keel(dir, &local).args(["reset", "--yes"]).output().unwrap();
    assert!(o.status.success(), "{}", out(&o));
    // A server database needs keel.toml's `[database] disposable = true`.
    let pg = TestDb::new(Backend::Postgres).await;
    let o = keel(dir, &pg.url)
        .args(["reset", "--yes"])
        .output()
        .unwrap();
    assert!(out(&o).contains("error[K4071]"), "{}", out(&o));
    // The mark binds to keel.toml's own database_url (issue #13, item 2).
    std::fs::write(
        dir.join("keel.toml"),
        format!(
            "database_url = \"{}\"\n[database]\ndisposable = true\n",
            pg.url
        ),
    )
    .unwrap();
    pg.execute("CREATE TABLE t (id INT)").await;
    let o = keel(dir, &pg.url)
        .args(["reset", "--yes"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    assert!(!pg.has_table("t").await);
}
