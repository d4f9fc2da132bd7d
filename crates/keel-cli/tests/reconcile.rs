//! Applying what keel proposes, through keel (issue #17): `keel drift --revert`,
//! `keel drift --record NAME` and `keel execute FILE`, with the data they drop counted and
//! refused without `--allow-data-loss`, a confirmation off a terminal refused without
//! `--yes`, and nothing changed when they refuse.
#![allow(clippy::unwrap_used)]

use keel_test_support::{keel, output_text, write_migration, Backend, TestDb};

fn out(o: &std::process::Output) -> String {
    output_text(o)
}

async fn deployed(backend: Backend) -> (TestDb, tempfile::TempDir) {
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    write_migration(
        &t.path().join("migrations"),
        "1_users",
        "CREATE TABLE users (id INT NOT NULL PRIMARY KEY, email VARCHAR(100));\n",
    );
    let o = keel(t.path(), &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", out(&o));
    db.execute("INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, NULL)")
        .await;
    (db, t)
}

async fn drift_revert_counts_refuses_and_verifies(backend: Backend) {
    let (db, t) = deployed(backend).await;
    db.execute("ALTER TABLE users ADD COLUMN phone VARCHAR(20)")
        .await;
    db.execute("UPDATE users SET phone = '555' WHERE id = 1")
        .await;
    db.execute("CREATE TABLE notes (id INT NOT NULL PRIMARY KEY)")
        .await;
    db.execute("INSERT INTO notes (id) VALUES (1), (2), (3)")
        .await;

    // Plain drift shows the counts under the SQL that brings the database back.
    let o = keel(t.path(), &db.url).arg("drift").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let text = out(&o);
    assert!(
        text.contains("drops table \"notes\" (3 rows)")
            || text.contains("drops table `notes` (3 rows)"),
        "{text}"
    );
    assert!(text.contains("(1 non-NULL value)"), "{text}");

    // Refused: data at stake. Nothing changed.
    let o = keel(t.path(), &db.url)
        .args(["drift", "--revert", "--yes"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("error[K4100]"), "{}", out(&o));
    assert!(db.has_column("users", "phone").await);
    // Not confirmed off a terminal without --yes.
    let o = keel(t.path(), &db.url)
        .args(["drift", "--revert", "--allow-data-loss"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("error[K4101]"), "{}", out(&o));
    assert!(db.has_table("notes").await);
    // A dry run prints and changes nothing.
    let o = keel(t.path(), &db.url)
        .args(["drift", "--revert", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("dry run: nothing changed"), "{}", out(&o));
    assert!(db.has_table("notes").await);

    let o = keel(t.path(), &db.url)
        .args(["drift", "--revert", "--yes", "--allow-data-loss"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains("the schema is verified to be the schema its applied migrations produce"),
        "{}",
        out(&o)
    );
    assert!(!db.has_column("users", "phone").await);
    assert!(!db.has_table("notes").await);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM users").await, 2);
    let o = keel(t.path(), &db.url).arg("drift").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    // Nothing to do now.
    let o = keel(t.path(), &db.url)
        .args(["drift", "--revert", "--yes"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("nothing to run"), "{}", out(&o));
}

async fn drift_record_writes_verifies_and_records(backend: Backend) {
    let (db, t) = deployed(backend).await;
    let o = keel(t.path(), &db.url)
        .args(["drift", "--record", "nothing"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("nothing to record"), "{}", out(&o));
    db.execute("ALTER TABLE users ADD COLUMN phone VARCHAR(20)")
        .await;
    db.execute("CREATE INDEX users_phone ON users (phone)")
        .await;
    // A bad name is refused before anything is written.
    let o = keel(t.path(), &db.url)
        .args(["drift", "--record", "Bad Name"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("error[K4010]"), "{}", out(&o));
    let o = keel(t.path(), &db.url)
        .args(["drift", "--record", "add_phone"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("recorded as applied"), "{}", out(&o));
    let folders: Vec<String> = std::fs::read_dir(t.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("_add_phone"))
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    let folder = t.path().join("migrations").join(&folders[0]);
    let up = std::fs::read_to_string(folder.join("migration.sql")).unwrap();
    assert!(up.contains("phone"), "{up}");
    assert!(folder.join("down.sql").exists());
    // Applied, no drift, nothing pending: the history now holds the change.
    let o = keel(t.path(), &db.url)
        .args(["status", "--exit-code"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = keel(t.path(), &db.url).arg("drift").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    // With a migration pending, recording would put the new one before it: refused.
    write_migration(
        &t.path().join("migrations"),
        "99990101000000_later",
        "CREATE TABLE later (id INT);\n",
    );
    db.execute("CREATE TABLE by_hand (id INT)").await;
    let o = keel(t.path(), &db.url)
        .args(["drift", "--record", "by_hand"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("error[K4104]"), "{}", out(&o));
    let n = std::fs::read_dir(t.path().join("migrations"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with("_by_hand")
        })
        .count();
    assert_eq!(n, 0, "a refused record wrote a folder");
}

async fn execute_runs_a_script_with_deploys_safety(backend: Backend) {
    let (db, t) = deployed(backend).await;
    let file = t.path().join("fix.sql");
    std::fs::write(&file, "ALTER TABLE users DROP COLUMN email;\n").unwrap();
    let o = keel(t.path(), &db.url)
        .args(["execute", "fix.sql", "--yes"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("error[K4100]"), "{}", out(&o));
    assert!(out(&o).contains("(1 non-NULL value)"), "{}", out(&o));
    assert!(db.has_column("users", "email").await);
    let o = keel(t.path(), &db.url)
        .args(["execute", "fix.sql", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains("ALTER TABLE users DROP COLUMN email;"),
        "{}",
        out(&o)
    );
    let o = keel(t.path(), &db.url)
        .args(["execute", "fix.sql", "--yes", "--allow-data-loss"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("ran 1 statement(s)"), "{}", out(&o));
    assert!(!out(&o).contains("verified"), "{}", out(&o));
    assert!(!db.has_column("users", "email").await);

    // A script that fails part-way: in a transaction nothing of it remains.
    std::fs::write(
        &file,
        "CREATE TABLE t1 (id INT);\nINSERT INTO no_such_table VALUES (1);\n",
    )
    .unwrap();
    let o = keel(t.path(), &db.url)
        .args(["execute", "fix.sql", "--yes"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("error[K4102]"), "{}", out(&o));
    if backend != Backend::Mysql {
        assert!(out(&o).contains("nothing changed"), "{}", out(&o));
        assert!(!db.has_table("t1").await);
    }
    // A NUL byte, a missing file: coded errors, nothing run.
    std::fs::write(&file, "CREATE TABLE t2 (id INT);\0\n").unwrap();
    let o = keel(t.path(), &db.url)
        .args(["execute", "fix.sql", "--yes"])
        .output()
        .unwrap();
    assert!(out(&o).contains("error[K4017]"), "{}", out(&o));
    assert!(!db.has_table("t2").await);
    let o = keel(t.path(), &db.url)
        .args(["execute", "missing.sql", "--yes"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("missing.sql"), "{}", out(&o));
    // An empty script runs nothing.
    std::fs::write(&file, "-- nothing\n").unwrap();
    let o = keel(t.path(), &db.url)
        .args(["execute", "fix.sql"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("nothing to run"), "{}", out(&o));
}

#[tokio::test]
async fn drift_revert_postgres() {
    drift_revert_counts_refuses_and_verifies(Backend::Postgres).await
}
#[tokio::test]
async fn drift_revert_mysql() {
    drift_revert_counts_refuses_and_verifies(Backend::Mysql).await
}
#[tokio::test]
async fn drift_revert_sqlite() {
    drift_revert_counts_refuses_and_verifies(Backend::Sqlite).await
}
#[tokio::test]
async fn drift_record_postgres() {
    drift_record_writes_verifies_and_records(Backend::Postgres).await
}
#[tokio::test]
async fn drift_record_mysql() {
    drift_record_writes_verifies_and_records(Backend::Mysql).await
}
#[tokio::test]
async fn drift_record_sqlite() {
    drift_record_writes_verifies_and_records(Backend::Sqlite).await
}
#[tokio::test]
async fn execute_postgres() {
    execute_runs_a_script_with_deploys_safety(Backend::Postgres).await
}
#[tokio::test]
async fn execute_mysql() {
    execute_runs_a_script_with_deploys_safety(Backend::Mysql).await
}
#[tokio::test]
async fn execute_sqlite() {
    execute_runs_a_script_with_deploys_safety(Backend::Sqlite).await
}
