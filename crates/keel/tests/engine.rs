//! Engine tests on real servers: each test body runs on PostgreSQL, MariaDB and SQLite, each in
//! a fresh database (see keel-test-support).
#![allow(clippy::unwrap_used)]

use keel::{deploy, resolve, status, DeployOptions, Error, ResolveAction, Settings, SettingsInput};
use keel_core::ledger::State;
use keel_test_support::{db_test, Backend, TestDb};
use std::path::Path;
use std::time::Duration;

fn write(dir: &Path, name: &str, sql: &str) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("migration.sql"), sql).unwrap();
}

fn settings(db: &TestDb, dir: &Path) -> Settings {
    Settings::resolve(
        SettingsInput {
            database_url: Some(db.url.clone()),
            migrations: Some(dir.to_path_buf()),
            deploy_lock_timeout: Some("5s".into()),
            ..Default::default()
        },
        dir,
    )
    .unwrap()
}

async fn run(s: &Settings) -> Result<keel::DeployReport, Error> {
    deploy(s, &DeployOptions::default(), &mut |_| {}).await
}

fn three(dir: &Path) {
    write(dir, "20260101000000_users", "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(200) NOT NULL);\n-- an index\nCREATE INDEX users_email ON users (email);\n");
    write(dir, "20260102000000_posts", "CREATE TABLE posts (id INT PRIMARY KEY, user_id INT NOT NULL, body TEXT);\nINSERT INTO users (id, email) VALUES (1, 'a@example.com; not a delimiter');\n");
    write(dir, "20260103000000_empty", "-- nothing to do\n");
}

async fn fresh_deploy_then_noop(db: TestDb) {
    let t = tempfile::tempdir().unwrap();
    three(t.path());
    let s = settings(&db, t.path());
    let r = run(&s).await.unwrap();
    assert_eq!(r.applied.len(), 3);
    assert_eq!(r.ledger_table, "_keel_migrations");
    assert!(db.has_table("posts").await);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM _keel_migrations WHERE finished_at IS NOT NULL")
            .await,
        3
    );
    let r = run(&s).await.unwrap();
    assert!(r.applied.is_empty(), "second deploy is a no-op");
    let st = status(&s).await.unwrap();
    assert_eq!(st.exit_code(), 0);
    assert_eq!(st.reconciled.count(State::Applied), 3);
    // Ledger checksums are the files' SHA-256.
    let m = keel_core::migrations::read_dir(t.path()).unwrap();
    for mig in &m.migrations {
        let n = db
            .scalar(&format!("SELECT COUNT(*) FROM _keel_migrations WHERE migration_name = '{}' AND checksum = '{}'", mig.name, mig.checksum))
            .await;
        assert_eq!(n, 1, "{}", mig.name);
    }
}
db_test!(fresh_deploy_then_noop);

async fn failure_at_step_then_resolve_and_fix(db: TestDb) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(dir, "20260101000000_a", "CREATE TABLE a (id INT);\n");
    let bad = "CREATE TABLE b (id INT);\nINSERT INTO no_such_table VALUES (1);\nCREATE TABLE c (id INT);\n";
    write(dir, "20260102000000_b", bad);
    write(dir, "20260103000000_d", "CREATE TABLE d (id INT);\n");
    let s = settings(&db, dir);
    let e = run(&s).await.unwrap_err();
    assert_eq!(e.code(), "K3018", "{e}");
    let Error::MigrationFailed {
        failure,
        transactional,
        applied_before,
        ..
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!((failure.step, failure.steps, failure.line), (2, 3, 2));
    assert_eq!(applied_before, &vec!["20260101000000_a".to_string()]);
    assert!(db.has_table("a").await);
    assert!(!db.has_table("c").await);
    assert!(
        !db.has_table("d").await,
        "deploy stops at the failed migration"
    );
    let steps = db.scalar("SELECT applied_steps_count FROM _keel_migrations WHERE migration_name = '20260102000000_b'").await;
    let logs = db.scalar("SELECT COUNT(*) FROM _keel_migrations WHERE migration_name = '20260102000000_b' AND finished_at IS NULL AND logs LIKE '%step 2 of 3%'").await;
    assert_eq!(logs, 1);
    if db.backend == Backend::Mysql {
        assert!(!transactional);
        assert_eq!(steps, 1, "MariaDB: applied_steps_count = k");
        assert!(
            db.has_table("b").await,
            "MariaDB: the first step's effect remains"
        );
    } else {
        assert!(transactional);
        assert_eq!(steps, 0);
        assert!(
            !db.has_table("b").await,
            "nothing of a transactional migration remains"
        );
    }
    let st = status(&s).await.unwrap();
    assert_eq!(st.exit_code(), 3);
    // Deploy refuses while a migration is failed.
    assert_eq!(run(&s).await.unwrap_err().code(), "K3009");
    // resolve --applied on a pending one that is not failed: fine later; --rolled-back on an applied one is refused.
    let e = resolve(&s, &ResolveAction::RolledBack("20260101000000_a".into()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "K3012");
    let e = resolve(&s, &ResolveAction::RolledBack("nope".into()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "K3017");
    let force = if db.backend == Backend::Mysql {
        // Issue #14, item 4: step 1 took effect, so marking it rolled back is refused until
        // it is undone (here by hand, then forced).
        let e = resolve(&s, &ResolveAction::RolledBack("20260102000000_b".into()))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "K3013", "{e}");
        db.execute("DROP TABLE b").await;
        true
    } else {
        false
    };
    assert_eq!(
        keel::resolve_with(
            &s,
            &ResolveAction::RolledBack("20260102000000_b".into()),
            force
        )
        .await
        .unwrap(),
        State::RolledBack
    );
    write(
        dir,
        "20260102000000_b",
        "CREATE TABLE b (id INT);\nCREATE TABLE c (id INT);\n",
    );
    let r = run(&s).await.unwrap();
    assert_eq!(r.applied, vec!["20260102000000_b", "20260103000000_d"]);
    let st = status(&s).await.unwrap();
    assert_eq!(st.exit_code(), 0);
    assert_eq!(st.reconciled.get("20260102000000_b").unwrap().attempts, 2);
}
db_test!(failure_at_step_then_resolve_and_fix);

async fn refuses_modified_missing_out_of_order(db: TestDb) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(dir, "1_a", "CREATE TABLE a (id INT);");
    write(dir, "3_c", "CREATE TABLE c (id INT);");
    let s = settings(&db, dir);
    run(&s).await.unwrap();
    // Out of order: 2_b sorts before the applied 3_c.
    write(dir, "2_b", "CREATE TABLE b (id INT);");
    assert_eq!(run(&s).await.unwrap_err().code(), "K4003");
    std::fs::remove_dir_all(dir.join("2_b")).unwrap();
    // Modified.
    write(dir, "1_a", "CREATE TABLE a (id INT, x INT);");
    assert_eq!(run(&s).await.unwrap_err().code(), "K4001");
    let ok = deploy(
        &s,
        &DeployOptions {
            allow_modified: true,
            ..Default::default()
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(ok.accepted.len(), 1);
    write(dir, "1_a", "CREATE TABLE a (id INT);");
    // Missing.
    std::fs::remove_dir_all(dir.join("3_c")).unwrap();
    assert_eq!(run(&s).await.unwrap_err().code(), "K4002");
    assert_eq!(status(&s).await.unwrap().exit_code(), 2);
}
db_test!(refuses_modified_missing_out_of_order);

async fn non_empty_database_needs_a_baseline(db: TestDb) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    db.execute("CREATE TABLE legacy (id INT)").await;
    write(dir, "1_init", "CREATE TABLE legacy (id INT);");
    write(dir, "2_more", "CREATE TABLE more (id INT);");
    let s = settings(&db, dir);
    let e = run(&s).await.unwrap_err();
    assert_eq!(e.code(), "K3005");
    // Issue #14, item 3: never "resolve the first, then deploy" (it re-runs the others).
    assert!(e.fix().contains("`keel baseline`"), "{}", e.fix());
    assert!(!e.fix().contains("resolve --applied"), "{}", e.fix());
    resolve(&s, &ResolveAction::Applied("1_init".into()))
        .await
        .unwrap();
    let r = run(&s).await.unwrap();
    assert_eq!(r.applied, vec!["2_more"]);
    let e = resolve(&s, &ResolveAction::Applied("1_init".into()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "K3008");
}
db_test!(non_empty_database_needs_a_baseline);

async fn lock_timeout_names_the_holder(db: TestDb) {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "1_a", "CREATE TABLE a (id INT);");
    let mut s = settings(&db, t.path());
    s.deploy_lock_timeout = Duration::from_millis(300);
    let mut holder = keel_driver::connect(&db.url).await.unwrap();
    holder.lock(Duration::from_secs(1)).await.unwrap();
    let e = run(&s).await.unwrap_err();
    assert_eq!(e.code(), "K1002", "{e}");
    let text = e.to_string();
    match db.backend {
        Backend::Postgres => assert!(
            text.contains("pid") && text.contains("application_name 'keel'"),
            "{text}"
        ),
        Backend::Mysql => assert!(text.contains("connection id"), "{text}"),
        Backend::Sqlite => assert!(text.contains("timed out"), "{text}"),
    }
    holder.unlock().await.unwrap();
    run(&s).await.unwrap();
}
db_test!(lock_timeout_names_the_holder);

async fn concurrent_deploys_apply_each_migration_once(db: TestDb) {
    let t = tempfile::tempdir().unwrap();
    for i in 1..=6 {
        write(
            t.path(),
            &format!("{i}_m{i}"),
            &format!("CREATE TABLE t{i} (id INT);"),
        );
    }
    let s = settings(&db, t.path());
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            // One OS thread and runtime per deploy, like separate processes sharing nothing.
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(run(&s))
                    .map(|r| r.applied.len())
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.join().unwrap().unwrap();
    }
    assert_eq!(
        total, 6,
        "every migration applied exactly once across the 4 deploys"
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM _keel_migrations").await, 6);
}
db_test!(concurrent_deploys_apply_each_migration_once);

async fn dry_run_changes_nothing(db: TestDb) {
    let t = tempfile::tempdir().unwrap();
    three(t.path());
    let s = settings(&db, t.path());
    let r = deploy(
        &s,
        &DeployOptions {
            dry_run: true,
            ..Default::default()
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    let sql = r.dry_run_sql.unwrap();
    assert!(sql.contains("CREATE TABLE users"), "{sql}");
    assert!(sql.contains("_keel_migrations"), "{sql}");
    assert!(!db.has_table("users").await);
    assert!(!db.has_table("_keel_migrations").await);
    let r = deploy(
        &s,
        &DeployOptions {
            to: Some("20260101000000".into()),
            ..Default::default()
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(r.applied, vec!["20260101000000_users"]);
}
db_test!(dry_run_changes_nothing);

/// Statements that cannot run in a transaction, migrations with their own BEGIN/COMMIT,
/// function bodies, Prisma's SQLite table redefinition, MySQL DELIMITER blocks.
async fn special_migrations_run_as_their_database_needs(db: TestDb) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    match db.backend {
        Backend::Postgres => {
            write(
                dir,
                "1_table",
                "CREATE TABLE t (id INT, kind TEXT);\nINSERT INTO t VALUES (1, 'a');\n",
            );
            // Would fail inside a transaction block (SQLSTATE 25001).
            write(
                dir,
                "2_concurrently",
                "-- CreateIndex\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n",
            );
            // Prisma's enum swap carries its own transaction.
            write(dir, "3_own_transaction", "BEGIN;\nCREATE TYPE kind AS ENUM ('a', 'b');\nALTER TABLE t ALTER COLUMN kind TYPE kind USING kind::kind;\nCOMMIT;\n");
            write(dir, "4_function", "CREATE FUNCTION f() RETURNS trigger AS $fn$\nBEGIN\n  NEW.id := NEW.id + 1; -- a ; inside\n  RETURN NEW;\nEND;\n$fn$ LANGUAGE plpgsql;\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();\n");
        }
        Backend::Mysql => {
            write(
                dir,
                "1_table",
                "CREATE TABLE t (id INT, kind VARCHAR(10));\nINSERT INTO t VALUES (1, 'a');\n",
            );
            write(dir, "2_procedure", "DELIMITER $$\nCREATE PROCEDURE bump(IN n INT)\nBEGIN\n  IF n > 0 THEN\n    UPDATE t SET id = id + n; -- ; inside\n  END IF;\nEND$$\nDELIMITER ;\nCALL bump(1);\n");
            write(dir, "3_trigger", "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  SET NEW.kind = CASE WHEN NEW.kind IS NULL THEN 'x' ELSE NEW.kind END;\nEND;\n");
        }
        Backend::Sqlite => {
            write(dir, "1_tables", "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE);\nINSERT INTO parent VALUES (1, 'p');\nINSERT INTO child VALUES (1, 1), (2, 1);\n");
            // Prisma's RedefineTables: without foreign keys off, DROP TABLE would cascade.
            write(dir, "2_redefine", "-- RedefineTables\nPRAGMA defer_foreign_keys=ON;\nPRAGMA foreign_keys=OFF;\nCREATE TABLE \"new_parent\" (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');\nINSERT INTO \"new_parent\" (id, name) SELECT id, name FROM \"parent\";\nDROP TABLE \"parent\";\nALTER TABLE \"new_parent\" RENAME TO \"parent\";\nPRAGMA foreign_keys=ON;\nPRAGMA defer_foreign_keys=OFF;\n");
            write(dir, "3_trigger", "CREATE TRIGGER tr AFTER INSERT ON parent BEGIN\n  UPDATE parent SET name = 'x;y' WHERE id = NEW.id;\nEND;\n");
        }
    }
    let s = settings(&db, dir);
    let r = run(&s).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.applied.len(),
        keel_core::migrations::read_dir(dir)
            .unwrap()
            .migrations
            .len()
    );
    match db.backend {
        Backend::Postgres => {
            assert_eq!(
                db.scalar("SELECT COUNT(*) FROM pg_indexes WHERE indexname = 't_id'")
                    .await,
                1
            );
            db.execute("INSERT INTO t VALUES (1, 'b')").await;
            assert_eq!(
                db.scalar("SELECT MAX(id) FROM t").await,
                2,
                "trigger from the $fn$ body"
            );
        }
        Backend::Mysql => {
            assert_eq!(db.scalar("SELECT MAX(id) FROM t").await, 2, "procedure ran");
        }
        Backend::Sqlite => {
            assert_eq!(
                db.scalar("SELECT COUNT(*) FROM child").await,
                2,
                "the redefinition kept child rows"
            );
            assert_eq!(db.scalar("PRAGMA foreign_keys").await, 1);
        }
    }
}
db_test!(special_migrations_run_as_their_database_needs);

/// A failure inside a migration's own BEGIN … COMMIT leaves a truthful ledger on PostgreSQL.
#[tokio::test]
async fn failure_inside_own_transaction_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "1_a", "CREATE TABLE before_tx (id INT);\nBEGIN;\nCREATE TABLE inside_tx (id INT);\nSELECT * FROM no_such_table;\nCOMMIT;\n");
    let s = settings(&db, t.path());
    let e = run(&s).await.unwrap_err();
    assert_eq!(e.code(), "K3018");
    assert!(db.has_table("before_tx").await);
    assert!(!db.has_table("inside_tx").await);
    assert_eq!(
        db.scalar("SELECT applied_steps_count FROM _keel_migrations")
            .await,
        1,
        "only the step before BEGIN took effect"
    );
}

/// The server kills keel's session mid-migration: a coded error, a truthful ledger, no trace of
/// a transactional migration.
#[tokio::test]
async fn lost_connection_mid_migration_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "1_step_by_step", "-- keel:no-transaction\nCREATE TABLE first (id INT);\nSELECT pg_sleep(5);\nCREATE TABLE never (id INT);\n");
    let s = settings(&db, t.path());
    let kill = format!(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{}' AND application_name = 'keel' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()",
        db.name
    );
    let killer = {
        let url = db.url.clone();
        let kill = kill.clone();
        tokio::spawn(async move { kill_when_seen(&url, &kill).await })
    };
    let e = run(&s).await.unwrap_err();
    assert!(
        killer.await.unwrap(),
        "the session was found and terminated"
    );
    assert_eq!(e.code(), "K1017", "{e}");
    assert!(e.to_string().contains("applied_steps_count"), "{e}");
    assert!(db.has_table("first").await);
    assert!(!db.has_table("never").await);
    assert_eq!(
        db.scalar("SELECT applied_steps_count FROM _keel_migrations")
            .await,
        1
    );
    let st = status(&s).await.unwrap();
    assert_eq!(st.reconciled.entries[0].state, State::Failed);
    assert_eq!(
        run(&s).await.unwrap_err().code(),
        "K3009",
        "the next deploy refuses until resolved"
    );

    // A transactional migration killed mid-way leaves nothing, not even a ledger row.
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "1_tx",
        "CREATE TABLE first (id INT);\nSELECT pg_sleep(5);\n",
    );
    let s = settings(&db, t.path());
    let kill = format!(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{}' AND application_name = 'keel' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()",
        db.name
    );
    let killer = {
        let url = db.url.clone();
        tokio::spawn(async move { kill_when_seen(&url, &kill).await })
    };
    let e = run(&s).await.unwrap_err();
    assert!(killer.await.unwrap());
    assert_eq!(e.code(), "K1017", "{e}");
    assert!(!db.has_table("first").await);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM _keel_migrations").await, 0);
    assert_eq!(
        status(&s).await.unwrap().reconciled.entries[0].state,
        State::Pending
    );
}

async fn kill_when_seen(url: &str, kill: &str) -> bool {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    for _ in 0..100 {
        let n: i64 = sqlx::query_scalar(kill).fetch_one(&mut c).await.unwrap();
        if n > 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
