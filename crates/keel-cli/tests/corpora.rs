//! Real input: every corpus in `$KEEL_CORPORA/INDEX.md` that applies cleanly on the local
//! servers deploys with the `keel` binary into a fresh database; `keel status --exit-code` then
//! exits 0, a second deploy applies nothing, and every ledger checksum equals the file's SHA-256.
//!
//! Baseline: each corpus's final state deployed by the database's own client (psql, mariadb,
//! sqlite3) without a ledger; `keel baseline` then writes and records a first migration, after
//! which `keel drift` finds nothing and `keel status --exit-code` exits 0.
//!
//! Plan: each corpus's final state (`keel inspect`) as schema.sql → `keel plan init` → `keel check` passes; the
//! Mermaid diagram of each is snapshot-tested.
//!
//! Skipped, with a printed reason, when `KEEL_CORPORA` is unset. Not run (see README):
//! `umami_mysql` (its `05_add_visit_id` uses MySQL-8-only functions, MariaDB rejects it),
//! `kratos_*` (ory/popx layout: per-dialect `<version>_<name>.<dialect>.up.sql` overrides, which
//! keel's flat-layout reader does not select by dialect).
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use keel_test_support::{Backend, TestDb};
use std::path::PathBuf;

fn corpora() -> Option<PathBuf> {
    match std::env::var("KEEL_CORPORA") {
        Ok(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            eprintln!(
                "skipped: KEEL_CORPORA is not set (set it to ../shared/corpora; .ci/run does)"
            );
            None
        }
    }
}

async fn deploy_corpus(backend: Backend, rel: &str) {
    let Some(root) = corpora() else { return };
    let dir = root.join(rel);
    assert!(
        dir.is_dir(),
        "corpus directory {} is missing",
        dir.display()
    );
    let db = TestDb::new(backend).await;
    let keel = |args: &[&str]| {
        let mut c = Command::cargo_bin("keel").unwrap();
        c.arg("--database-url")
            .arg(&db.url)
            .arg("--migrations")
            .arg(&dir)
            .args(args);
        c
    };
    let out = keel(&["deploy"]).output().unwrap();
    assert!(
        out.status.success(),
        "{rel}: deploy failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = keel(&["status", "--exit-code"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{rel}: status\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = keel(&["deploy"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("nothing to apply"),
        "{rel}: second deploy: {stdout}"
    );
    // Every ledger checksum equals the file's SHA-256.
    let m = keel_core::migrations::read_dir(&dir).unwrap();
    let table = if m.has_lock_file {
        "_prisma_migrations"
    } else {
        "_keel_migrations"
    };
    let n = db
        .scalar(&format!(
            "SELECT COUNT(*) FROM {table} WHERE finished_at IS NOT NULL"
        ))
        .await;
    assert_eq!(n as usize, m.migrations.len(), "{rel}");
    for mig in &m.migrations {
        let n = db
            .scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE migration_name = '{}' AND checksum = '{}'",
                mig.name, mig.checksum
            ))
            .await;
        assert_eq!(n, 1, "{rel}: checksum of {}", mig.name);
    }
}

/// Runs every migration of `dir`, in order, through the database's own command-line client.
fn raw_apply(db: &TestDb, dir: &std::path::Path) {
    let m = keel_core::migrations::read_dir(dir).unwrap();
    let files: Vec<&std::path::Path> = m.migrations.iter().map(|x| x.path.as_path()).collect();
    let output = match db.backend {
        Backend::Postgres => {
            let mut c = std::process::Command::new("psql");
            c.args(["-q", "-X", "-v", "ON_ERROR_STOP=1", "-d", &db.url]);
            for f in &files {
                c.arg("-f").arg(f);
            }
            c.output()
        }
        Backend::Mysql | Backend::Sqlite => {
            let mut script = Vec::new();
            for f in &files {
                script.extend(std::fs::read(f).unwrap());
                script.extend_from_slice(b"\n");
            }
            let mut c = if db.backend == Backend::Mysql {
                let mut c = std::process::Command::new("mariadb");
                c.args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", &db.name]);
                c
            } else {
                let path = db.url.trim_start_matches("sqlite://");
                let path = path.split('?').next().unwrap();
                let mut c = std::process::Command::new("sqlite3");
                c.args(["-bail", path]);
                c
            };
            c.stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = c.spawn().unwrap();
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&script).unwrap();
            child.wait_with_output()
        }
    }
    .expect("the database client (psql, mariadb, sqlite3) must be installed; .ci/run installs it");
    assert!(
        output.status.success(),
        "raw apply of {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn baseline_corpus(backend: Backend, rel: &str) {
    let Some(root) = corpora() else { return };
    let dir = root.join(rel);
    let db = TestDb::new(backend).await;
    raw_apply(&db, &dir);
    let t = tempfile::tempdir().unwrap();
    let mig = t.path().join("migrations");
    std::fs::create_dir_all(&mig).unwrap();
    let keel = |args: &[&str]| {
        let mut c = Command::cargo_bin("keel").unwrap();
        c.current_dir(t.path())
            .env_remove("DATABASE_URL")
            .arg("--database-url")
            .arg(&db.url)
            .arg("--migrations")
            .arg(&mig)
            .args(args);
        c.output().unwrap()
    };
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let o = keel(&["status", "--exit-code"]);
    assert_ne!(
        o.status.code(),
        Some(0),
        "{rel}: a database without ledger is not clean"
    );
    let o = keel(&["baseline"]);
    assert!(o.status.success(), "{rel}: baseline: {}", text(&o));
    let o = keel(&["drift"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{rel}: drift after baseline: {}",
        text(&o)
    );
    let o = keel(&["status", "--exit-code"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{rel}: status after baseline: {}",
        text(&o)
    );
}

/// `keel plan init` from the corpus's final state as schema.sql (`keel inspect` of the
/// deployed history) and an empty migrations directory writes one migration that reproduces
/// it and a down.sql that undoes it (`keel check` exits 0); deployed, its Mermaid diagram is
/// snapshot-tested.
async fn plan_corpus(backend: Backend, rel: &str, snapshot: &str) {
    let Some(root) = corpora() else { return };
    let history = TestDb::new(backend).await;
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    let mig = t.path().join("migrations");
    std::fs::create_dir_all(&mig).unwrap();
    let keel = |url: &str, dir: &std::path::Path, args: &[&str]| {
        let mut c = Command::cargo_bin("keel").unwrap();
        c.current_dir(t.path())
            .env_remove("DATABASE_URL")
            .arg("--database-url")
            .arg(url)
            .arg("--migrations")
            .arg(dir)
            .args(args);
        c.output().unwrap()
    };
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let src = root.join(rel);
    let o = keel(&history.url, &src, &["deploy"]);
    assert!(o.status.success(), "{rel}: deploy: {}", text(&o));
    let o = keel(&history.url, &src, &["inspect"]);
    assert!(o.status.success(), "{rel}: inspect: {}", text(&o));
    std::fs::write(t.path().join("schema.sql"), &o.stdout).unwrap();
    let o = keel(&db.url, &mig, &["plan", "init", "--create-only"]);
    assert!(o.status.success(), "{rel}: plan: {}", text(&o));
    assert_eq!(
        std::fs::read_dir(&mig).unwrap().count(),
        1,
        "{rel}: one migration"
    );
    let o = keel(&db.url, &mig, &["check"]);
    assert_eq!(o.status.code(), Some(0), "{rel}: check: {}", text(&o));
    let o = keel(&db.url, &mig, &["deploy"]);
    assert!(o.status.success(), "{rel}: deploy: {}", text(&o));
    let o = keel(&db.url, &mig, &["inspect", "--format", "mermaid"]);
    assert!(o.status.success(), "{rel}: inspect: {}", text(&o));
    let diagram = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(diagram.starts_with("erDiagram\n"));
    insta::assert_snapshot!(format!("mermaid_{snapshot}"), diagram);
}

macro_rules! corpus {
    ($name:ident, $backend:ident, $path:literal) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn deploy() {
                deploy_corpus(Backend::$backend, $path).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn baseline() {
                baseline_corpus(Backend::$backend, $path).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn plan() {
                plan_corpus(Backend::$backend, $path, stringify!($name)).await
            }
        }
    };
}

corpus!(
    triggerdev_pg,
    Postgres,
    "triggerdotdev__trigger.dev/internal-packages/database/prisma/migrations"
);
corpus!(
    rallly_pg,
    Postgres,
    "lukevella__rallly/packages/database/prisma/migrations"
);
corpus!(
    hoppscotch_pg,
    Postgres,
    "hoppscotch__hoppscotch/packages/hoppscotch-backend/prisma/migrations"
);
corpus!(
    umami_pg,
    Postgres,
    "umami-software__umami/prisma/migrations"
);
corpus!(
    teable_pg,
    Postgres,
    "teableio__teable/packages/db-main-prisma/prisma/postgres/migrations"
);
corpus!(
    atuin_pg,
    Postgres,
    "atuinsh__atuin/crates/atuin-server-postgres/migrations"
);
corpus!(
    flipt_pg,
    Postgres,
    "flipt-io__flipt/config/migrations/postgres"
);
corpus!(
    flipt_mysql,
    Mysql,
    "flipt-io__flipt/config/migrations/mysql"
);
corpus!(
    teable_sqlite,
    Sqlite,
    "teableio__teable/packages/db-main-prisma/prisma/sqlite/migrations"
);
corpus!(
    pingvin_sqlite,
    Sqlite,
    "stonith404__pingvin-share/backend/prisma/migrations"
);
corpus!(
    atuin_server_sqlite,
    Sqlite,
    "atuinsh__atuin/crates/atuin-server-sqlite/migrations"
);
corpus!(
    atuin_client_sqlite,
    Sqlite,
    "atuinsh__atuin/crates/atuin-client/migrations"
);
corpus!(
    flipt_sqlite,
    Sqlite,
    "flipt-io__flipt/config/migrations/sqlite3"
);
