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
            lock_timeout: Some("5s".into()),
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
    assert_eq!(
        resolve(&s, &ResolveAction::RolledBack("20260102000000_b".into()))
            .await
            .unwrap(),
        State::RolledBack
    );
    if db.backend == Backend::Mysql {
        db.execute("DROP TABLE b").await;
    }
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
    assert!(
        e.fix().contains("keel resolve --applied 1_init"),
        "{}",
        e.fix()
    );
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
    s.lock_timeout = Duration::from_millis(300);
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
