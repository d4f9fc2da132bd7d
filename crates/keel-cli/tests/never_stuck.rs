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

async fn invalid_indexes(db: &TestDb) -> i64 {
    db.scalar("SELECT COUNT(*) FROM pg_index WHERE NOT indisvalid")
        .await
}

/// Item 1: `CREATE INDEX CONCURRENTLY` waits for every older snapshot (a `pg_dump`, a
/// REPEATABLE READ report); past lock_timeout PostgreSQL cancels it and leaves an INVALID
/// index. With `IF NOT EXISTS` the retry skipped it and deploy exited 0. Now the INVALID index
/// is dropped before each retry and before the failure is recorded, the message names the old
/// transaction, and once it ends a plain `keel deploy` builds the index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrently_behind_an_old_snapshot_leaves_no_invalid_index() {
    use sqlx::Connection;
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let m = dir.join("migrations");
    write(
        &m,
        "1_t",
        "CREATE TABLE t (id INT PRIMARY KEY, v INT);\nINSERT INTO t SELECT g, g FROM generate_series(1, 100) g;\n",
    );
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    write(
        &m,
        "2_ix",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_v ON t (v);\n",
    );
    // A report holding a snapshot (the reproduction): the build waits for it and
    // gives up, and the INVALID index it leaves is dropped.
    let mut report = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1")
        .execute(&mut report)
        .await
        .unwrap();
    let deploy = || {
        keel(dir, &db.url)
            .args(["deploy", "--lock-timeout", "300ms", "--lock-attempts", "2"])
            .output()
            .unwrap()
    };
    let o = deploy();
    let text = output_text(&o);
    assert!(!o.status.success(), "{text}");
    assert!(
        text.contains("older than its own") && text.contains("transaction open for"),
        "the old snapshot is named: {text}"
    );
    assert!(text.contains("nothing of it took effect\n"), "{text}");
    assert_eq!(invalid_indexes(&db).await, 0, "{text}");
    let o = keel(dir, &db.url).arg("status").output().unwrap();
    assert!(!output_text(&o).contains("INVALID"), "{}", output_text(&o));
    sqlx::raw_sql("COMMIT").execute(&mut report).await.unwrap();

    // A `pg_dump` also holds a lock on the table: the drop waits for it as the build did, so
    // the INVALID index stays, said so; status sees it; the next deploy drops and builds it.
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT COUNT(*) FROM t")
        .execute(&mut report)
        .await
        .unwrap();
    let o = deploy();
    let text = output_text(&o);
    assert!(!o.status.success(), "{text}");
    assert!(
        text.contains("but the INVALID index \"t_v\", which keel could not drop"),
        "{text}"
    );
    assert_eq!(invalid_indexes(&db).await, 1, "{text}");
    let o = keel(dir, &db.url).arg("status").output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", output_text(&o));
    assert!(
        output_text(&o).contains("is INVALID"),
        "{}",
        output_text(&o)
    );
    sqlx::raw_sql("COMMIT").execute(&mut report).await.unwrap();
    report.close().await.unwrap();
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    assert_eq!(invalid_indexes(&db).await, 0);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM pg_indexes WHERE indexname = 't_v'")
            .await,
        1
    );
}

/// Item 1: an INVALID index left by an earlier, killed attempt (or by another tool): status
/// exits 3 and names it with the fix, drift shows it, and `keel deploy` of a migration that
/// creates it `IF NOT EXISTS` drops it and builds it instead of skipping it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_index_left_behind_is_seen_and_rebuilt() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let m = dir.join("migrations");
    write(
        &m,
        "1_t",
        "CREATE TABLE t (id INT PRIMARY KEY, v INT);\nINSERT INTO t VALUES (1, 1), (2, 1);\n",
    );
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    // The build fails on the duplicates and leaves its index INVALID.
    let mut c = {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&db.url).await.unwrap()
    };
    assert!(
        sqlx::raw_sql("CREATE UNIQUE INDEX CONCURRENTLY t_v ON t (v)")
            .execute(&mut c)
            .await
            .is_err()
    );
    assert_eq!(invalid_indexes(&db).await, 1);
    let o = keel(dir, &db.url).arg("status").output().unwrap();
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(3), "{text}");
    assert!(
        text.contains("index \"t_v\" on \"t\" is INVALID")
            && text.contains("DROP INDEX CONCURRENTLY \"t_v\""),
        "{text}"
    );
    let o = keel(dir, &db.url).arg("drift").output().unwrap();
    let text = output_text(&o);
    assert!(text.contains("INVALID"), "{text}");
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(3), "{text}");
    assert!(
        text.contains("K4090") && text.contains("is INVALID"),
        "{text}"
    );

    db.execute("DELETE FROM t WHERE id = 2").await;
    write(
        &m,
        "2_ix",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_v ON t (v);\n",
    );
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    assert_eq!(invalid_indexes(&db).await, 0);
    let o = keel(dir, &db.url).arg("status").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
}

/// Item 1: a CONCURRENTLY build that fails (duplicates under a new unique index) records the
/// failure without leaving its INVALID index behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_concurrent_build_drops_its_invalid_index() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let m = dir.join("migrations");
    write(
        &m,
        "1_t",
        "CREATE TABLE t (id INT PRIMARY KEY, v INT);\nINSERT INTO t VALUES (1, 1), (2, 1);\n",
    );
    write(
        &m,
        "2_ix",
        "CREATE UNIQUE INDEX CONCURRENTLY t_v ON t (v);\n",
    );
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    let text = output_text(&o);
    assert!(!o.status.success(), "{text}");
    assert!(
        text.contains("the INVALID index \"t_v\" it left was dropped"),
        "{text}"
    );
    assert_eq!(invalid_indexes(&db).await, 0);
}

/// Item 3: a database another tool built from an existing history, with no ledger. K3005 said
/// "record the first migration, then deploy", which re-ran migration 2 on the final schema.
/// `keel baseline` now finds the longest prefix of the history the database has and records
/// exactly that: all of it, part of it (the rest stays pending for `keel deploy`), or none
/// (K4031 with the closest prefix's differences), and never makes a failed migration.
async fn baseline_against_history(backend: Backend) {
    let history = [
        ("1_a", "CREATE TABLE a (id INT PRIMARY KEY, x INT);\n"),
        (
            "2_b",
            "CREATE TABLE b (id INT PRIMARY KEY, a_id INT, CONSTRAINT b_a_fkey FOREIGN KEY (a_id) REFERENCES a (id));\n",
        ),
        ("3_c", "CREATE TABLE c (id INT PRIMARY KEY);\n"),
    ];
    for built in [3usize, 2, 0] {
        let db = TestDb::new(backend).await;
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let m = dir.join("migrations");
        for (name, sql) in history {
            write(&m, name, sql);
        }
        for (_, sql) in &history[..built] {
            db.execute(sql).await;
        }
        if built == 0 {
            // Built by hand, and not from this history.
            db.execute("CREATE TABLE a (id INT PRIMARY KEY, y INT)")
                .await;
        }
        let o = keel(dir, &db.url).arg("deploy").output().unwrap();
        let text = output_text(&o);
        assert!(
            text.contains("K3005") && text.contains("keel baseline"),
            "{text}"
        );
        assert!(!text.contains("resolve --applied"), "{text}");
        let o = keel(dir, &db.url).arg("baseline").output().unwrap();
        let text = output_text(&o);
        if built == 0 {
            assert!(!o.status.success(), "{text}");
            assert!(
                text.contains("K4031") && text.contains("the closest is the first 1 migration"),
                "{text}"
            );
            assert!(!db.has_table("_prisma_migrations").await);
            continue;
        }
        assert!(o.status.success(), "{text}");
        assert!(
            text.contains(&format!("the first {built} migration(s)")),
            "{text}"
        );
        let o = keel(dir, &db.url).arg("deploy").output().unwrap();
        assert!(o.status.success(), "{}", output_text(&o));
        assert_eq!(
            output_text(&o).contains("nothing to apply"),
            built == 3,
            "{}",
            output_text(&o)
        );
        let o = keel(dir, &db.url)
            .args(["status", "--drift"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
        // A second baseline is refused: the history is recorded.
        let o = keel(dir, &db.url).arg("baseline").output().unwrap();
        assert!(output_text(&o).contains("K4030"), "{}", output_text(&o));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_against_history_postgres() {
    baseline_against_history(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_against_history_mariadb() {
    baseline_against_history(Backend::Mysql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_against_history_sqlite() {
    baseline_against_history(Backend::Sqlite).await;
}

/// Item 4: `resolve --rolled-back` of a migration that failed part-way (the ledger says step 1
/// took effect) was accepted, and the next deploy failed at step 1: refused now (K3013),
/// pointing to `repair --revert`; `--force` when the steps were undone by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_rolled_back_refuses_a_part_way_migration() {
    let db = TestDb::new(Backend::Mysql).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let m = dir.join("migrations");
    write(
        &m,
        "1_x",
        "CREATE TABLE x (id INT);\nCREATE TABLE x (id INT);\n",
    );
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(!o.status.success(), "{}", output_text(&o));
    let o = keel(dir, &db.url)
        .args(["resolve", "--rolled-back", "1_x"])
        .output()
        .unwrap();
    let text = output_text(&o);
    assert!(
        text.contains("K3013") && text.contains("1 of its steps took effect"),
        "{text}"
    );
    // Undone by hand, then forced.
    db.execute("DROP TABLE x").await;
    let o = keel(dir, &db.url)
        .args(["resolve", "--rolled-back", "1_x", "--force"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    std::fs::write(
        m.join("1_x").join("migration.sql"),
        "CREATE TABLE x (id INT);\n",
    )
    .unwrap();
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
}

/// Item 5: a transactional migration holds each table it has locked while it waits for the
/// next, and lock_timeout bounds each wait, not their sum: with `t` free, `u` held for 0.4 s
/// and `v` for 1.2 s, and `--lock-timeout 600ms`, the application's reads of `t` were blocked
/// for about 1.1 s. Now every table lock is taken first, in one request bounded by the lock
/// timeout as a whole (and a lock wait is not replayed to find the failing step): the reads of
/// `t` wait at most about the lock timeout, and the retry succeeds once the holders are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::async_yields_async)] // `hold` hands back the task that ends the hold.
async fn a_multi_table_migration_holds_the_first_no_longer_than_the_lock_timeout() {
    use sqlx::Connection;
    use std::time::{Duration, Instant};
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let m = dir.join("migrations");
    write(
        &m,
        "1_base",
        "CREATE TABLE t (id INT);\nCREATE TABLE u (id INT);\nCREATE TABLE v (id INT);\nINSERT INTO t VALUES (1);\n",
    );
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    write(
        &m,
        "2_three",
        "ALTER TABLE t ADD COLUMN a INT;\nALTER TABLE u ADD COLUMN b INT;\nALTER TABLE v ADD COLUMN c INT;\n",
    );
    let hold = |table: &'static str, for_ms: u64| {
        let url = db.url.clone();
        async move {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(&format!("BEGIN; SELECT * FROM {table}"))
                .execute(&mut c)
                .await
                .unwrap();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(for_ms)).await;
                // Closing the session ends its transaction and frees the table.
                c.close().await.unwrap();
            })
        }
    };
    let hu = hold("u", 400).await;
    let hv = hold("v", 1200).await;
    let bin = assert_cmd::cargo::cargo_bin("keel");
    let mut child = std::process::Command::new(bin)
        .args(["--database-url", &db.url, "--migrations"])
        .arg(&m)
        .args(["deploy", "--lock-timeout", "600ms", "--lock-attempts", "5"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The application reads `t` while keel tries.
    let mut app = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut worst = Duration::ZERO;
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let started = Instant::now();
        sqlx::raw_sql("SELECT COUNT(*) FROM t")
            .execute(&mut app)
            .await
            .unwrap();
        worst = worst.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    hu.await.unwrap();
    hv.await.unwrap();
    assert!(status.success(), "applied once the holders are gone");
    assert!(
        worst < Duration::from_millis(600 + 150),
        "the application waited {worst:?} on `t`"
    );
    assert!(db.has_column("t", "a").await && db.has_column("v", "c").await);
}

/// Item 5: on MariaDB `--lock-timeout 200ms` silently became a wait of a second: said now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_says_its_lock_waits_are_whole_seconds() {
    let db = TestDb::new(Backend::Mysql).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(&dir.join("migrations"), "1_a", "CREATE TABLE a (id INT);\n");
    let o = keel(dir, &db.url)
        .args(["deploy", "--lock-timeout", "200ms"])
        .output()
        .unwrap();
    let text = output_text(&o);
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("whole seconds: the lock timeout of 200 ms is 1 s there"),
        "{text}"
    );
    let o = keel(dir, &db.url)
        .args(["deploy", "--lock-timeout", "2s"])
        .output()
        .unwrap();
    assert!(
        !output_text(&o).contains("whole seconds"),
        "{}",
        output_text(&o)
    );
}

/// Item 4: doctor measured only the step the ledger said failed. A MariaDB migration fails at
/// step 2 (duplicates under a unique index) and step 3 (a foreign key) would reject orphan
/// rows: doctor now names both at once; after the duplicates are fixed and `repair --finish`
/// stops at step 3, doctor's cause is the fresh measurement, not the stale step-2 one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_measures_every_step_still_to_run() {
    let db = TestDb::new(Backend::Mysql).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let m = dir.join("migrations");
    write(
        &m,
        "1_base",
        "CREATE TABLE u (id INT PRIMARY KEY, email VARCHAR(50));\nCREATE TABLE o (id INT PRIMARY KEY, u_id INT);\nINSERT INTO u VALUES (1, 'a'), (2, 'a');\nINSERT INTO o VALUES (1, 99);\n",
    );
    write(
        &m,
        "2_keys",
        "ALTER TABLE u ADD COLUMN x INT;\nCREATE UNIQUE INDEX u_email ON u (email);\nALTER TABLE o ADD CONSTRAINT o_u FOREIGN KEY (u_id) REFERENCES u (id);\n",
    );
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(!o.status.success(), "{}", output_text(&o));
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    let text = output_text(&o);
    assert!(text.contains("group of rows with the same"), "{text}");
    assert!(
        text.contains("step 3 would fail too:") && text.contains("match no row of"),
        "{text}"
    );

    db.execute("UPDATE u SET email = 'b' WHERE id = 2").await;
    let o = keel(dir, &db.url)
        .args(["repair", "2_keys", "--finish", "--yes"])
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", output_text(&o));
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    let text = output_text(&o);
    assert!(
        !text.contains("group of rows with the same"),
        "stale: {text}"
    );
    assert!(
        text.contains("an earlier attempt failed at step 2"),
        "{text}"
    );
    assert!(text.contains("match no row of"), "{text}");

    db.execute("DELETE FROM o WHERE id = 1").await;
    let o = keel(dir, &db.url)
        .args(["repair", "2_keys", "--finish", "--yes"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    let o = keel(dir, &db.url).arg("status").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
}

/// Item 4: with an applied migration's folder deleted, drift called its columns hand-made and
/// offered SQL dropping them; while a migration was failed, it reported that migration's
/// objects as "in no migration". Now K4002 comes first (no SQL offered), and a failed
/// migration is compared in the state doctor measures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_states_missing_and_failed_migrations_first() {
    let db = TestDb::new(Backend::Mysql).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let m = dir.join("migrations");
    write(&m, "1_a", "CREATE TABLE a (id INT PRIMARY KEY);\n");
    write(&m, "2_col", "ALTER TABLE a ADD COLUMN c INT;\n");
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));

    // Failed part-way: step 1 took effect, step 2 failed.
    write(
        &m,
        "3_half",
        "CREATE TABLE b (id INT);\nALTER TABLE missing_table ADD COLUMN x INT;\n",
    );
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(!o.status.success(), "{}", output_text(&o));
    let o = keel(dir, &db.url).arg("drift").output().unwrap();
    let text = output_text(&o);
    assert!(
        text.contains("note: K3009: migration `3_half` is failed (step 1 took effect"),
        "{text}"
    );
    assert!(
        !text.contains("table `b` exists in the database but in no migration"),
        "{text}"
    );
    assert!(text.contains("no drift"), "{text}");
    db.execute("DROP TABLE b").await;
    let o = keel(dir, &db.url)
        .args(["resolve", "--rolled-back", "3_half", "--force"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    std::fs::remove_dir_all(m.join("3_half")).unwrap();

    // An applied migration's folder is gone.
    std::fs::remove_dir_all(m.join("2_col")).unwrap();
    let o = keel(dir, &db.url).arg("drift").output().unwrap();
    let text = output_text(&o);
    assert!(!o.status.success(), "{text}");
    assert!(text.contains("K4002") && text.contains("2_col"), "{text}");
    assert!(
        !text.contains("DROP COLUMN"),
        "no SQL that drops its column: {text}"
    );
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    let text = output_text(&o);
    assert!(text.contains("K4002"), "{text}");
    assert!(!text.contains("DROP COLUMN"), "{text}");
}

/// Item 4: two finished ledger rows for one migration read as healthy, and a NULL checksum was
/// K1010 on PostgreSQL but K4001 elsewhere. Now both are doctor findings (K1010) naming the
/// rows, and a NULL checksum reads as modified on every database.
async fn ledger_inconsistencies(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(&dir.join("migrations"), "1_a", "CREATE TABLE a (id INT);\n");
    write(&dir.join("migrations"), "2_b", "CREATE TABLE b (id INT);\n");
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    db.execute(
        "INSERT INTO _keel_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) \
         SELECT 'dup-row', 'feedface', finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count FROM _keel_migrations WHERE migration_name = '1_a'",
    )
    .await;
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    let text = output_text(&o);
    assert!(
        text.contains("K1010") && text.contains("records `1_a` as applied 2 times"),
        "{text}"
    );
    assert!(
        text.contains("dup-row") && text.contains("different checksums"),
        "{text}"
    );

    match backend {
        Backend::Postgres => {
            db.execute("ALTER TABLE _keel_migrations ALTER COLUMN checksum DROP NOT NULL")
                .await
        }
        _ => {
            db.execute("ALTER TABLE _keel_migrations MODIFY checksum VARCHAR(64) NULL")
                .await
        }
    }
    db.execute("UPDATE _keel_migrations SET checksum = NULL WHERE migration_name = '2_b'")
        .await;
    let o = keel(dir, &db.url).arg("status").output().unwrap();
    let text = output_text(&o);
    assert!(
        text.contains("modified") && !text.contains("K1010"),
        "{text}"
    );
    let o = keel(dir, &db.url).arg("doctor").output().unwrap();
    let text = output_text(&o);
    assert!(text.contains("of `2_b` has no checksum"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_inconsistencies_postgres() {
    ledger_inconsistencies(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_inconsistencies_mariadb() {
    ledger_inconsistencies(Backend::Mysql).await;
}

/// Item 4: a PostgreSQL migration ending in `ROLLBACK;` was recorded as applied with nothing
/// of it in the schema (and the shadow's replay disagreed): refused before anything runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_that_rolls_itself_back_is_refused() {
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let db = TestDb::new(backend).await;
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        write(
            &dir.join("migrations"),
            "1_oops",
            "BEGIN;\nCREATE TABLE a (id INT);\nROLLBACK;\n",
        );
        let o = keel(dir, &db.url).arg("deploy").output().unwrap();
        let text = output_text(&o);
        assert!(text.contains("K4007") && text.contains("line 3"), "{text}");
        assert!(!db.has_table("a").await);
        let o = keel(dir, &db.url).arg("status").output().unwrap();
        assert!(output_text(&o).contains("pending"), "{}", output_text(&o));
    }
}

/// Item 5: the locks-first request must never break a migration that runs without it: a
/// name that `ALTER TABLE` accepts but `LOCK TABLE` refuses (a sequence) turns it off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locks_first_never_breaks_a_valid_migration() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let m = dir.join("migrations");
    write(
        &m,
        "1_base",
        "CREATE TABLE t (id INT);\nCREATE SEQUENCE s;\nCREATE VIEW v AS SELECT id FROM t;\n",
    );
    write(
        &m,
        "2_mixed",
        "ALTER TABLE t ADD COLUMN a INT;\nALTER TABLE s RENAME TO s2;\nALTER TABLE v RENAME TO v2;\nCREATE TABLE n (id INT);\nALTER TABLE n ADD COLUMN b INT;\n",
    );
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    assert!(db.has_column("t", "a").await && db.has_column("n", "b").await);
}

/// Item 4: a search_path (the database's or the role's) that names no existing schema left the
/// session without a current schema: the ledger read as "not created yet", deploy failed with a
/// bare server error, and introspection read `public` as an extra schema (false drift). Now
/// every command says K1021 and how to name the schema; `?schema=` works as in Prisma.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_path_naming_no_schema_is_a_coded_error() {
    let db = TestDb::new(Backend::Postgres).await;
    db.execute(&format!(
        "ALTER DATABASE {} SET search_path = no_such_schema",
        db.name
    ))
    .await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(&dir.join("migrations"), "1_t", "CREATE TABLE t (id INT);\n");
    for args in [&["deploy"][..], &["status"], &["doctor"], &["drift"]] {
        let o = keel(dir, &db.url).args(args).output().unwrap();
        let text = output_text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {text}");
        assert!(
            text.contains("K1021")
                && text.contains("`no_such_schema`")
                && text.contains("?schema="),
            "{args:?}: {text}"
        );
        assert!(!text.contains("added schema"), "{args:?}: {text}");
    }
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_tables WHERE tablename = '_keel_migrations'")
            .await,
        0
    );
    // Naming the schema in the URL works: deploy creates it, as Prisma's does.
    let url = format!("{}?schema=app", db.url);
    let o = keel(dir, &url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    let o = keel(dir, &url).arg("doctor").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
}

/// Item 4: a database whose search_path names its own schema (`ALTER DATABASE … SET
/// search_path = app`): the shadow database, a fresh one, replayed into `public`, so doctor and
/// drift compared `app` with `public` ("added schema `public`"). The shadow now replays into a
/// schema named as the target's current one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_path_naming_its_own_schema_shows_no_false_drift() {
    let db = TestDb::new(Backend::Postgres).await;
    db.execute(&format!(
        "CREATE SCHEMA app; ALTER DATABASE {} SET search_path = app",
        db.name
    ))
    .await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let m = dir.join("migrations");
    write(&m, "1_t", "CREATE TABLE t (id INT PRIMARY KEY);\n");
    write(&m, "2_u", "CREATE TABLE u (id INT REFERENCES t (id));\n");
    let o = keel(dir, &db.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'app'")
            .await,
        3
    );
    for args in [&["doctor"][..], &["drift"], &["status", "--drift"]] {
        let o = keel(dir, &db.url).args(args).output().unwrap();
        let text = output_text(&o);
        assert!(o.status.success(), "{args:?}: {text}");
        assert!(
            !text.contains("added schema") && !text.contains("public"),
            "{args:?}: {text}"
        );
    }
    // A hand change is still seen.
    db.execute("ALTER TABLE app.t ADD COLUMN x INT").await;
    let o = keel(dir, &db.url).arg("drift").output().unwrap();
    let text = output_text(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("`t.x`"), "{text}");
    assert!(!text.contains("public"), "{text}");
}
