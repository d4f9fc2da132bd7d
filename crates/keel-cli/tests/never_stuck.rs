//! Issue #14: the failure states keel must see, resume and repair, on the real servers.
#![allow(clippy::unwrap_used)]

use keel_test_support::{keel, output_text, write_migration as write, Backend, TestDb};

/// A user who can migrate its own database and nothing else: no CREATEDB / global CREATE, and
/// (PostgreSQL) no local server binaries, so no shadow database can be had.
async fn least_privilege(db: &TestDb) -> (String, String) {
    let user = format!("keel_lp_{}", db.name.trim_start_matches("keel_test_"));
    match db.backend {
        Backend::Postgres => {
            db.execute(&format!(
                "CREATE ROLE {user} LOGIN NOCREATEDB; GRANT USAGE, CREATE ON SCHEMA public TO {user}"
            ))
            .await;
            (
                user.clone(),
                db.url.replacen("postgres@", &format!("{user}@"), 1),
            )
        }
        Backend::Mysql => {
            db.execute(&format!(
                "CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'; GRANT ALL ON `{}`.* TO '{user}'@'%'",
                db.name
            ))
            .await;
            (
                user.clone(),
                db.url.replacen("root@", &format!("{user}:pw@"), 1),
            )
        }
        Backend::Sqlite => unreachable!(),
    }
}

async fn drop_user(db: &TestDb, user: &str) {
    match db.backend {
        Backend::Postgres => {
            db.execute(&format!("DROP OWNED BY {user}; DROP ROLE {user}"))
                .await
        }
        Backend::Mysql => db.execute(&format!("DROP USER '{user}'@'%'")).await,
        Backend::Sqlite => {}
    }
}

/// Item 2: the data-loss gate replayed the history in a shadow database, so a least-privilege
/// user got K3014 and could not deploy at all, even with `--allow-data-loss`. Now the
/// statements' own targets are counted on the target: the refusal names the values at stake,
/// and `--allow-data-loss` deploys.
async fn least_privilege_deploy(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (user, url) = least_privilege(&db).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let m = dir.join("migrations");
    write(
        &m,
        "1_t",
        "CREATE TABLE t (id INT PRIMARY KEY, c INT, d VARCHAR(50));\nINSERT INTO t (id, c, d) VALUES (1, 10, 'a'), (2, 20, 'b'), (3, NULL, 'c');\n",
    );
    let run = |args: &[&str]| {
        keel(dir, &url)
            .env("KEEL_PG_BINDIR", "/nonexistent/bin")
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["deploy"]);
    assert!(o.status.success(), "{}", output_text(&o));
    write(&m, "2_drop", "ALTER TABLE t DROP COLUMN c;\n");
    let o = run(&["deploy"]);
    let text = output_text(&o);
    assert!(!o.status.success(), "{text}");
    assert!(text.contains("K4070"), "{text}");
    assert!(!text.contains("K3014"), "no shadow is needed: {text}");
    assert!(text.contains("2 non-NULL values"), "{text}");
    assert!(db.has_column("t", "c").await);

    let o = run(&["deploy", "--allow-data-loss"]);
    assert!(o.status.success(), "{}", output_text(&o));
    assert!(!db.has_column("t", "c").await);

    // A narrowing type change is counted the same way; a widening one passes.
    write(&m, "3_widen", "ALTER TABLE t MODIFY d VARCHAR(100);\n");
    if backend == Backend::Postgres {
        write(
            &m,
            "3_widen",
            "ALTER TABLE t ALTER COLUMN d SET DATA TYPE VARCHAR(100);\n",
        );
    }
    let o = run(&["deploy"]);
    assert!(o.status.success(), "{}", output_text(&o));
    let narrow = if backend == Backend::Postgres {
        "ALTER TABLE \"t\" ALTER COLUMN \"d\" TYPE varchar(1) USING left(d, 1);\n"
    } else {
        "ALTER TABLE `t` MODIFY `d` VARCHAR(1);\n"
    };
    write(&m, "4_narrow", narrow);
    let o = run(&["deploy"]);
    let text = output_text(&o);
    assert!(
        text.contains("K4070") && text.contains("values longer than 1"),
        "{text}"
    );
    drop_user(&db, &user).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_privilege_deploy_needs_no_shadow_postgres() {
    least_privilege_deploy(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_privilege_deploy_needs_no_shadow_mariadb() {
    least_privilege_deploy(Backend::Mysql).await;
}

/// Item 2: `deploy --to 1` of (create t; add c; drop c), then `keel deploy`: the gate counted
/// the column that migration 2 creates as data at stake (K4070 on an empty table). A column
/// the target does not hold yet holds no data: the resumed deploy resumes.
async fn resumed_deploy(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let m = dir.join("migrations");
    write(&m, "1_t", "CREATE TABLE t (id INT);\n");
    write(&m, "2_add", "ALTER TABLE t ADD COLUMN c INT;\n");
    write(&m, "3_drop", "ALTER TABLE t DROP COLUMN c;\n");
    let o = keel(dir, &db.url)
        .args(["deploy", "--to", "1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    assert!(!db.has_column("t", "c").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumed_deploy_resumes_postgres() {
    resumed_deploy(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumed_deploy_resumes_mariadb() {
    resumed_deploy(Backend::Mysql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumed_deploy_resumes_sqlite() {
    resumed_deploy(Backend::Sqlite).await;
}
