//! Authoring sessions (issue #6) on PostgreSQL, MariaDB and SQLite: edit schema.sql, `keel
//! plan`, deploy; add a table, add and drop columns, change a type, add an index and a foreign
//! key, rename a column with `--rename`; every migration and down.sql round-trips in a shadow
//! (`keel check`), and `keel rollback` restores the previous schema exactly while keeping the
//! rows of untouched tables.
#![allow(clippy::unwrap_used)]

use keel::{
    check, plan, rollback, status, Error, PlanOptions, Rename, RollbackOptions, Settings,
    SettingsInput,
};
use keel_core::schema::diff::diff;
use keel_test_support::{db_test, Backend, TestDb};
use std::path::Path;

fn settings(db: &TestDb, dir: &Path) -> Settings {
    Settings::resolve(
        SettingsInput {
            database_url: Some(db.url.clone()),
            migrations: Some(dir.join("migrations")),
            deploy_lock_timeout: Some("10s".into()),
            ..Default::default()
        },
        dir,
    )
    .unwrap()
}

async fn introspect(url: &str) -> keel_core::schema::Schema {
    let mut d = keel_driver::connect(url).await.unwrap();
    let s = d.introspect().await.unwrap();
    d.close().await;
    s
}

fn dialect(b: Backend) -> keel_core::Dialect {
    match b {
        Backend::Postgres => keel_core::Dialect::Postgres,
        Backend::Mysql => keel_core::Dialect::Mysql,
        Backend::Sqlite => keel_core::Dialect::Sqlite,
    }
}

async fn step(
    s: &Settings,
    dir: &Path,
    name: &str,
    schema: &str,
    renames: Vec<Rename>,
) -> Result<keel::PlanReport, Error> {
    std::fs::write(dir.join("schema.sql"), schema).unwrap();
    plan(
        s,
        &PlanOptions {
            strict: false,
            name: name.into(),
            schema_file: dir.join("schema.sql"),
            renames,
            create_only: false,
        },
        &mut |_| None,
    )
    .await
}

async fn authoring_session(db: TestDb) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let s = settings(&db, dir);
    let d = dialect(db.backend);
    let v1 = "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL, age INT);\n";
    let r = step(&s, dir, "init", v1, vec![]).await.unwrap();
    assert!(r.deployed && r.dir.is_some());
    db.execute("INSERT INTO users (id, email, age) VALUES (1, 'a@x', 30), (2, 'b@x', NULL)")
        .await;
    let after_v1 = introspect(&db.url).await;

    // Add a table with a foreign key and an index, add a column, change a type.
    let v2 = "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(200) NOT NULL, age INT, name VARCHAR(50));\n\
              CREATE TABLE posts (id INT PRIMARY KEY, user_id INT NOT NULL REFERENCES users (id), title VARCHAR(100));\n\
              CREATE INDEX posts_title ON posts (title);\n";
    let r = step(&s, dir, "posts", v2, vec![]).await.unwrap();
    assert!(
        r.summary.iter().any(|l| l.contains("posts")),
        "{:?}",
        r.summary
    );
    db.execute("INSERT INTO posts (id, user_id, title) VALUES (10, 1, 'hello')")
        .await;
    let after_v2 = introspect(&db.url).await;

    // Nothing to do.
    let r = step(&s, dir, "again", v2, vec![]).await.unwrap();
    assert!(r.dir.is_none(), "nothing to do writes nothing");

    // Drop a column and rename another: refused without --rename (keel does not guess) …
    let v3 = "CREATE TABLE users (id INT PRIMARY KEY, mail VARCHAR(200) NOT NULL, name VARCHAR(50));\n\
              CREATE TABLE posts (id INT PRIMARY KEY, user_id INT NOT NULL REFERENCES users (id), title VARCHAR(100));\n\
              CREATE INDEX posts_title ON posts (title);\n";
    let e = step(&s, dir, "rename", v3, vec![]).await.unwrap_err();
    assert_eq!(e.code(), "K4061", "{e}");
    // … and a rename with it: the values move with the column. Dropping `age`, which holds a
    // value, is refused by the deploy gate (K4070); the rename is not a loss.
    let e = step(
        &s,
        dir,
        "rename",
        v3,
        vec!["users.email=mail".parse().unwrap()],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "K4070", "{e}");
    assert!(
        e.to_string().contains("users.age") && !e.to_string().contains("users.email"),
        "{e}"
    );
    db.execute("UPDATE users SET age = NULL").await;
    keel::deploy(&s, &keel::DeployOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM users WHERE mail = 'a@x'")
            .await,
        1
    );

    let c = check(&s, &dir.join("schema.sql"), false).await.unwrap();
    assert_eq!(c.exit_code(), 0, "{c:?}");
    assert_eq!(c.downs.len(), 3);

    // Rollback of the last: its down renames `mail` back and re-adds `age` (empty: the up
    // dropped it); a rename drops nothing, so no flag is needed.
    let r = rollback(&s, &RollbackOptions::default(), &mut |_| true)
        .await
        .unwrap();
    assert!(r.executed);
    let now = introspect(&db.url).await;
    let dd = diff(d, &after_v2, &now);
    assert!(
        dd.is_empty(),
        "{:?}",
        keel_core::schema::summary::summarize(&dd)
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM posts").await,
        1,
        "untouched rows kept"
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM users WHERE email = 'a@x'")
            .await,
        1
    );

    // Roll back to the first migration: the posts table (one row) is at stake.
    let first = std::fs::read_dir(dir.join("migrations"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with("_init"))
        .unwrap();
    let e = rollback(
        &s,
        &RollbackOptions {
            to: Some(first.clone()),
            ..Default::default()
        },
        &mut |_| true,
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "K4064");
    assert!(e.to_string().contains("posts"), "{e}");
    db.execute("DELETE FROM posts").await;
    rollback(
        &s,
        &RollbackOptions {
            to: Some(first),
            ..Default::default()
        },
        &mut |_| true,
    )
    .await
    .unwrap();
    let dd = diff(d, &after_v1, &introspect(&db.url).await);
    assert!(
        dd.is_empty(),
        "{:?}",
        keel_core::schema::summary::summarize(&dd)
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM users").await, 2);
    let st = status(&s).await.unwrap();
    assert_eq!(
        st.exit_code(),
        2,
        "rolled back migrations are pending again"
    );
}
db_test!(authoring_session);
