//! Issue #14, "tests that stay": `keel deploy` killed at random moments (the client with
//! SIGKILL, or its session ended by the server), then keel's own advice followed (`keel
//! doctor`'s first fix, as an operator would run it) until doctor says healthy; the schema and
//! the ledger must then equal a clean deploy's. A bounded number of trials with a fixed seed;
//! `KEEL_SLOW_TESTS=1` runs more. Each database prints `trials / converged / needed a flag`.
#![allow(clippy::unwrap_used)]

use keel_test_support::{keel, output_text, write_migration as write, Backend, TestDb};
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::Duration;

/// A history with every way a migration runs: transactional, step by step (with pauses, so
/// that a kill lands between steps and inside one), a CONCURRENTLY index on PostgreSQL, data,
/// and a drop of a column the history created (the data-loss gate of a resumed deploy).
fn history(backend: Backend, dir: &Path) {
    let pause = match backend {
        Backend::Postgres => "SELECT pg_sleep(0.15)",
        Backend::Mysql => "SELECT SLEEP(0.15)",
        Backend::Sqlite => "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT COUNT(*) FROM n",
    };
    write(
        dir,
        "1_base",
        "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100));\nINSERT INTO users VALUES (1, 'a'), (2, 'b'), (3, 'c');\n",
    );
    let no_tx = if backend == Backend::Sqlite {
        ""
    } else {
        "-- keel:no-transaction\n"
    };
    write(
        dir,
        "2_steps",
        &format!(
            "{no_tx}CREATE TABLE posts (id INT PRIMARY KEY, user_id INT);\n{pause};\nALTER TABLE posts ADD COLUMN title VARCHAR(50);\n{pause};\nCREATE INDEX posts_user ON posts (user_id);\n"
        ),
    );
    if backend == Backend::Postgres {
        write(
            dir,
            "3_concurrently",
            &format!("{pause};\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);\n"),
        );
    } else {
        write(
            dir,
            "3_index",
            &format!("{pause};\nCREATE UNIQUE INDEX users_email ON users (email);\n"),
        );
    }
    write(
        dir,
        "4_tx",
        &format!("ALTER TABLE users ADD COLUMN name VARCHAR(50);\n{pause};\nUPDATE users SET name = email;\n"),
    );
    // A column an earlier migration of the same deploy creates: a resumed deploy must not
    // count it as data at stake (issue #14, item 2).
    write(dir, "5_drop", "ALTER TABLE posts DROP COLUMN title;\n");
}

/// The backticked `keel …` commands of a fix, in order.
fn commands(fix: &str) -> Vec<Vec<String>> {
    fix.split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| c.starts_with("keel "))
        .map(|c| {
            let mut args: Vec<String> = c.split_whitespace().skip(1).map(String::from).collect();
            if matches!(
                args.first().map(String::as_str),
                Some("repair" | "rollback")
            ) {
                args.push("--yes".into());
            }
            args
        })
        .collect()
}

/// Follows doctor's first fix until doctor says healthy; returns the commands run, or `None`
/// when it did not converge.
fn follow_advice(dir: &Path, url: &str) -> Option<Vec<String>> {
    let mut ran = Vec::new();
    for _ in 0..20 {
        let o = keel(dir, url).args(["--json", "doctor"]).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).ok()?;
        let Some(first) = v["findings"].as_array().and_then(|f| f.first()) else {
            return Some(ran);
        };
        let fix = first["fixes"][0].as_str().unwrap_or("");
        let cmds = commands(fix);
        if first["code"] == "K1002" {
            // "wait for that deploy to finish": the server still runs what the killed client
            // sent (PostgreSQL notices a dead client only when it answers).
            std::thread::sleep(Duration::from_millis(300));
            continue;
        }
        if cmds.is_empty() {
            eprintln!("no keel command in the first fix: {first}");
            return None;
        }
        for args in cmds {
            ran.push(args.join(" "));
            let _ = keel(dir, url).args(&args).output().unwrap();
        }
    }
    None
}

async fn schema_of(url: &str) -> keel_core::schema::Schema {
    let mut d = keel_driver::connect(url).await.unwrap();
    let s = d.introspect().await.unwrap();
    d.close().await;
    s
}

async fn trials(backend: Backend) {
    let n = if std::env::var_os("KEEL_SLOW_TESTS").is_some() {
        16
    } else {
        6
    };
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    history(backend, &dir.join("migrations"));
    // The reference: a clean deploy.
    let clean = TestDb::new(backend).await;
    let o = keel(dir, &clean.url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", output_text(&o));
    let want = schema_of(&clean.url).await;
    let dialect = match backend {
        Backend::Postgres => keel_core::Dialect::Postgres,
        Backend::Mysql => keel_core::Dialect::Mysql,
        Backend::Sqlite => keel_core::Dialect::Sqlite,
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(14);
    let (mut converged, mut flagged) = (0, 0);
    let mut failures = Vec::new();
    for trial in 0..n {
        let db = TestDb::new(backend).await;
        let at = Duration::from_millis(rng.gen_range(20..800));
        let server_side = backend != Backend::Sqlite && rng.gen_bool(0.3);
        let bin = assert_cmd::cargo::cargo_bin("keel");
        let mut child = std::process::Command::new(bin)
            .args(["--database-url", &db.url, "--migrations"])
            .arg(dir.join("migrations"))
            .arg("deploy")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(at).await;
        if server_side {
            // The server ends keel's session (an operator, a failover, a pooler).
            let sql = match backend {
                Backend::Postgres => format!(
                    "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{}' AND application_name = 'keel'",
                    db.name
                ),
                _ => "SELECT 1".to_string(),
            };
            if backend == Backend::Postgres {
                let _ = db.scalar(&sql).await;
            } else {
                let ids = format!(
                    "SELECT COALESCE(MIN(ID), 0) FROM information_schema.PROCESSLIST WHERE DB = '{}' AND ID <> CONNECTION_ID()",
                    db.name
                );
                let id = db.scalar(&ids).await;
                if id > 0 {
                    db.execute(&format!("KILL CONNECTION {id}")).await;
                }
            }
        } else {
            let _ = child.kill();
        }
        let _ = tokio::task::spawn_blocking(move || child.wait()).await;
        let how = if server_side {
            "session ended"
        } else {
            "SIGKILL"
        };
        match follow_advice(dir, &db.url) {
            Some(ran) => {
                let live = schema_of(&db.url).await;
                let rest = keel_core::schema::diff::diff(dialect, &want, &live);
                let o = keel(dir, &db.url).arg("status").output().unwrap();
                if rest.is_empty() && o.status.success() {
                    eprintln!("{backend:?} trial {trial} ({how} at {at:?}): {ran:?}");
                    converged += 1;
                    if ran
                        .iter()
                        .any(|c| c.contains("--force") || c.contains("--allow"))
                    {
                        flagged += 1;
                    }
                } else {
                    failures.push(format!(
                        "trial {trial} ({how} at {at:?}): ran {ran:?}; differs: {:?}; status: {}",
                        keel_core::schema::summary::summarize(&rest),
                        output_text(&o)
                    ));
                }
            }
            None => failures.push(format!(
                "trial {trial} ({how} at {at:?}): doctor's advice did not converge: {}",
                output_text(&keel(dir, &db.url).arg("doctor").output().unwrap())
            )),
        }
    }
    eprintln!("{backend:?}: {n} trials, {converged} converged, {flagged} needed a flag");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kills_postgres() {
    trials(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kills_mariadb() {
    trials(Backend::Mysql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kills_sqlite() {
    trials(Backend::Sqlite).await;
}
