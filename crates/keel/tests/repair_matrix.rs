//! The failure-injection matrix of issue #4: on PostgreSQL, MariaDB and SQLite, migration M
//! fails at each step position for each cause (bad SQL, NOT NULL over NULLs, a unique index
//! over duplicates, a foreign key over orphans, a lock held by another session), run in a
//! transaction and step by step. For every case `keel status` tells the truth, `keel doctor`
//! classifies it (not applied / part-way at k), and `keel repair --finish` or `--revert`
//! brings the schema to exactly the expected state (introspection equality with a reference)
//! with every pre-existing row intact (same rows, same values).
//!
//! Without `KEEL_SLOW_TESTS=1` one position and one mode per cause run; with it (as CI does),
//! every position, mode and direction.
#![allow(clippy::unwrap_used)]

use keel::{
    deploy, doctor, repair, status, Classification, DeployOptions, RepairDirection, RepairOptions,
    Settings, SettingsInput,
};
use keel_core::ledger::State;
use keel_core::schema::diff::diff;
use keel_core::schema::Schema;
use keel_test_support::{Backend, TestDb};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    BadSql,
    Nulls,
    Duplicates,
    Orphans,
    Lock,
}

const BASE: &str = "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100), nickname VARCHAR(50), name VARCHAR(50));
CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, total INT);
INSERT INTO users (id, email, nickname, name) VALUES (1, 'a@x', NULL, 'A'), (2, 'a@x', 'bee', 'B'), (3, 'c@x', 'cee', 'C');
INSERT INTO orders (id, user_id, total) VALUES (10, 1, 5), (11, 99, 7);
";

const BENIGN: [&str; 3] = [
    "CREATE TABLE audit (id INT PRIMARY KEY, note VARCHAR(100))",
    "ALTER TABLE users ADD COLUMN phone VARCHAR(20)",
    "CREATE INDEX users_name_idx ON users (name)",
];

/// The failing statements (the last one fails), the same fixed (for a bad statement), the
/// statements that set a short lock timeout first, and the data fix.
struct Failing {
    steps: Vec<&'static str>,
    fixed: Vec<&'static str>,
    prefix: Vec<&'static str>,
    data_fix: Vec<&'static str>,
}

fn failing(kind: Kind, b: Backend) -> Failing {
    let f = |steps: Vec<&'static str>, data_fix: Vec<&'static str>| Failing {
        fixed: steps.clone(),
        steps,
        prefix: Vec::new(),
        data_fix,
    };
    match (kind, b) {
        (Kind::BadSql, _) => Failing {
            steps: vec!["ALTER TABLE no_such_table ADD COLUMN x INT"],
            fixed: vec!["ALTER TABLE orders ADD COLUMN x INT"],
            prefix: Vec::new(),
            data_fix: Vec::new(),
        },
        (Kind::Nulls, Backend::Postgres) => f(
            vec!["ALTER TABLE users ALTER COLUMN nickname SET NOT NULL"],
            vec!["UPDATE users SET nickname = 'anon' WHERE nickname IS NULL"],
        ),
        (Kind::Nulls, Backend::Mysql) => f(
            vec!["ALTER TABLE users MODIFY nickname VARCHAR(50) NOT NULL"],
            vec!["UPDATE users SET nickname = 'anon' WHERE nickname IS NULL"],
        ),
        (Kind::Nulls, Backend::Sqlite) => f(
            vec![
                "CREATE TABLE users_nn (id INT PRIMARY KEY, nickname VARCHAR(50) NOT NULL)",
                "INSERT INTO users_nn (id, nickname) SELECT id, nickname FROM users",
            ],
            vec!["UPDATE users SET nickname = 'anon' WHERE nickname IS NULL"],
        ),
        (Kind::Duplicates, _) => f(
            vec!["CREATE UNIQUE INDEX users_email_key ON users (email)"],
            vec!["UPDATE users SET email = 'b@x' WHERE id = 2"],
        ),
        (Kind::Orphans, Backend::Sqlite) => f(
            vec![
                "CREATE TABLE orders_fk (id INT PRIMARY KEY, user_id INT REFERENCES users (id))",
                "INSERT INTO orders_fk (id, user_id) SELECT id, user_id FROM orders",
            ],
            vec!["INSERT INTO users (id, email, nickname, name) VALUES (99, 'z@x', 'zed', 'Z')"],
        ),
        (Kind::Orphans, _) => f(
            vec!["ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)"],
            vec!["INSERT INTO users (id, email, nickname, name) VALUES (99, 'z@x', 'zed', 'Z')"],
        ),
        (Kind::Lock, b) => Failing {
            steps: vec!["ALTER TABLE orders ADD COLUMN status VARCHAR(10)"],
            fixed: vec!["ALTER TABLE orders ADD COLUMN status VARCHAR(10)"],
            prefix: vec![if b == Backend::Mysql {
                "SET SESSION lock_wait_timeout = 1"
            } else {
                "SET lock_timeout = '300ms'"
            }],
            data_fix: Vec::new(),
        },
    }
}

/// M with the failing statements at `position` (1-based, among the benign ones).
fn migration(f: &Failing, position: usize, no_tx: bool, fixed: bool) -> String {
    let mut steps: Vec<&str> = f.prefix.clone();
    steps.extend_from_slice(&BENIGN[..position - 1]);
    steps.extend(if fixed { &f.fixed } else { &f.steps });
    steps.extend_from_slice(&BENIGN[position - 1..]);
    let mut s = String::new();
    if no_tx {
        s.push_str("-- keel:no-transaction\n");
    }
    for st in steps {
        s.push_str(st);
        s.push_str(";\n");
    }
    s
}

fn write(dir: &Path, name: &str, sql: &str) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("migration.sql"), sql).unwrap();
}

fn settings(url: &str, dir: &Path) -> Settings {
    Settings::resolve(
        SettingsInput {
            database_url: Some(url.to_string()),
            migrations: Some(dir.to_path_buf()),
            deploy_lock_timeout: Some("20s".into()),
            // The lock cases fail on the first lock wait (no retry), as a migration that
            // sets its own lock_timeout does.
            lock_attempts: Some(1),
            ..Default::default()
        },
        dir,
    )
    .unwrap()
}

async fn introspect(url: &str) -> Schema {
    let mut d = keel_driver::connect(url).await.unwrap();
    let s = d.introspect().await.unwrap();
    d.close().await;
    s
}

/// Every row of the base tables, in their base columns, ordered by key.
async fn rows(url: &str) -> Vec<Vec<Option<String>>> {
    let mut d = keel_driver::connect(url).await.unwrap();
    let mut out = d
        .query_text("SELECT id, email, nickname, name FROM users ORDER BY id")
        .await
        .unwrap();
    out.extend(
        d.query_text("SELECT id, user_id, total FROM orders ORDER BY id")
            .await
            .unwrap(),
    );
    d.close().await;
    out
}

async fn exec(url: &str, sqls: &[&str]) {
    let mut d = keel_driver::connect(url).await.unwrap();
    for s in sqls {
        d.execute(s).await.unwrap();
    }
    d.close().await;
}

async fn run_deploy(s: &Settings) -> Result<keel::DeployReport, keel::Error> {
    deploy(s, &DeployOptions::default(), &mut |_| {}).await
}

/// Holds a lock on `orders` from another session until dropped/released.
async fn blocker(url: &str) -> Box<dyn keel_driver::Driver> {
    let mut d = keel_driver::connect(url).await.unwrap();
    d.execute("BEGIN").await.unwrap();
    d.execute("SELECT * FROM orders").await.unwrap();
    d
}

async fn release(d: Box<dyn keel_driver::Driver>) {
    let mut d = d;
    let _ = d.execute("COMMIT").await;
    d.close().await;
}

#[derive(Debug, Clone, Copy)]
struct Case {
    kind: Kind,
    position: usize,
    no_tx: bool,
    direction: RepairDirection,
}

async fn run_case(backend: Backend, c: Case) -> Result<(), String> {
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(dir, "1_base", BASE);
    let s = settings(&db.url, dir);
    run_deploy(&s).await.map_err(|e| format!("base: {e}"))?;
    let pre = introspect(&db.url).await;
    let pre_rows = rows(&db.url).await;
    let f = failing(c.kind, backend);
    write(dir, "2_change", &migration(&f, c.position, c.no_tx, false));

    let lock = if c.kind == Kind::Lock {
        Some(blocker(&db.url).await)
    } else {
        None
    };
    let e = run_deploy(&s)
        .await
        .err()
        .ok_or("deploy of M succeeded; it must fail")?;
    let step_by_step = c.no_tx || backend == Backend::Mysql;
    let failing_step = f.prefix.len() + c.position - 1 + f.steps.len();
    let expected_applied = if step_by_step { failing_step - 1 } else { 0 };
    if c.kind == Kind::Lock && expected_applied == 0 {
        // Nothing took effect: the attempt is recorded failed and rolled back (K4080), and
        // once the holder is gone a plain deploy applies the migration.
        if e.code() != "K4080" {
            return Err(format!("deploy: expected K4080, got {e}"));
        }
        let st = status(&s).await.map_err(|e| e.to_string())?;
        if st.reconciled.get("2_change").map(|e| e.state) != Some(State::RolledBack) {
            return Err(format!("status after K4080: {}", st.summary()));
        }
        if let Some(l) = lock {
            release(l).await;
        }
        run_deploy(&s)
            .await
            .map_err(|e| format!("deploy after the holder released: {e}"))?;
        if status(&s).await.map_err(|e| e.to_string())?.exit_code() != 0 {
            return Err("status after the retry not clean".into());
        }
        return Ok(());
    }
    if e.code() != "K3018" {
        return Err(format!("deploy: expected K3018, got {e}"));
    }

    // keel status tells the truth.
    let st = status(&s).await.map_err(|e| e.to_string())?;
    let entry = st.reconciled.get("2_change").ok_or("no status entry")?;
    if st.exit_code() != 3 || entry.state != State::Failed {
        return Err(format!(
            "status: {:?}, exit {}",
            entry.state,
            st.exit_code()
        ));
    }
    let ledger_steps = entry.row.as_ref().map_or(0, |r| r.applied_steps_count) as usize;
    if ledger_steps != expected_applied {
        return Err(format!(
            "ledger applied_steps_count {ledger_steps}, expected {expected_applied}"
        ));
    }

    // keel doctor classifies it and explains why.
    let report = doctor(&s).await.map_err(|e| format!("doctor: {e}"))?;
    if report.exit_code() != 3 {
        return Err(format!("doctor exit {}", report.exit_code()));
    }
    let d = report.diagnoses.first().ok_or("doctor: no diagnosis")?;
    let expected = if expected_applied == 0 {
        Classification::NotApplied
    } else {
        Classification::PartWay {
            applied: expected_applied,
        }
    };
    if d.classification != expected {
        return Err(format!(
            "doctor: {:?}, expected {expected:?} (matching states {:?})",
            d.classification, d.matching_states
        ));
    }
    if d.failed_step != Some(failing_step) {
        return Err(format!(
            "doctor: failed step {:?}, expected {failing_step}",
            d.failed_step
        ));
    }
    let causes = d.causes.join(" | ");
    let probe_word = match (c.kind, backend) {
        (Kind::Nulls, Backend::Postgres | Backend::Mysql) => Some("NULL value"),
        (Kind::Duplicates, _) => Some("group"),
        (Kind::Orphans, Backend::Postgres | Backend::Mysql) => Some("match no row"),
        (Kind::Lock, _) => Some("held now by"),
        (Kind::BadSql, _) => Some("whatever the data"),
        _ => Some("the server said"),
    };
    if let Some(w) = probe_word {
        if !causes.contains(w) {
            return Err(format!("doctor: causes lack `{w}`: {causes}"));
        }
    }
    if let Some(l) = lock {
        release(l).await;
    }

    let before_repair_rows;
    let target = match c.direction {
        RepairDirection::Revert => {
            before_repair_rows = rows(&db.url).await;
            pre.clone()
        }
        RepairDirection::Finish => {
            // Fix the cause first: the data, or the file.
            exec(&db.url, &f.data_fix).await;
            write(dir, "2_change", &migration(&f, c.position, c.no_tx, true));
            before_repair_rows = rows(&db.url).await;
            // The reference: the history deployed cleanly on a fresh database.
            let reference = TestDb::new(backend).await;
            let rt = tempfile::tempdir().unwrap();
            write(rt.path(), "1_base", BASE);
            let rs = settings(&reference.url, rt.path());
            run_deploy(&rs).await.unwrap();
            exec(&reference.url, &f.data_fix).await;
            write(
                rt.path(),
                "2_change",
                &migration(&f, c.position, c.no_tx, true),
            );
            run_deploy(&rs)
                .await
                .map_err(|e| format!("reference: {e}"))?;
            introspect(&reference.url).await
        }
    };
    let r = repair(
        &s,
        "2_change",
        RepairOptions {
            direction: c.direction,
            allow_data_loss: false,
            dry_run: false,
        },
        &mut |_| true,
    )
    .await
    .map_err(|e| format!("repair: {e}"))?;
    if !r.executed {
        return Err("repair did not run".into());
    }
    let after = introspect(&db.url).await;
    let d = diff(db.dialect(), &target, &after);
    if !d.is_empty() {
        return Err(format!(
            "after repair the schema differs from the expected one: {:?}",
            keel_core::schema::summary::summarize(&d)
        ));
    }
    if rows(&db.url).await != before_repair_rows {
        return Err("repair changed pre-existing rows".into());
    }
    if c.direction == RepairDirection::Revert && before_repair_rows != pre_rows {
        return Err("rows differ from before the failed deploy".into());
    }
    let st = status(&s).await.map_err(|e| e.to_string())?;
    match c.direction {
        RepairDirection::Finish => {
            if st.exit_code() != 0 {
                return Err(format!("status after finish: {}", st.summary()));
            }
        }
        RepairDirection::Revert => {
            if st.reconciled.get("2_change").map(|e| e.state) != Some(State::RolledBack) {
                return Err(format!("status after revert: {}", st.summary()));
            }
            // Fix and deploy: the migration now applies.
            exec(&db.url, &f.data_fix).await;
            write(dir, "2_change", &migration(&f, c.position, c.no_tx, true));
            run_deploy(&s)
                .await
                .map_err(|e| format!("deploy after revert: {e}"))?;
            if status(&s).await.map_err(|e| e.to_string())?.exit_code() != 0 {
                return Err("status after revert + deploy not clean".into());
            }
        }
    }
    Ok(())
}

trait Dialected {
    fn dialect(&self) -> keel_core::Dialect;
}
impl Dialected for TestDb {
    fn dialect(&self) -> keel_core::Dialect {
        match self.backend {
            Backend::Postgres => keel_core::Dialect::Postgres,
            Backend::Mysql => keel_core::Dialect::Mysql,
            Backend::Sqlite => keel_core::Dialect::Sqlite,
        }
    }
}

async fn matrix(backend: Backend, kind: Kind) {
    let slow = std::env::var("KEEL_SLOW_TESTS").is_ok_and(|v| v == "1");
    let positions: Vec<usize> = if slow { (1..=4).collect() } else { vec![2] };
    let modes: Vec<bool> = match (backend, slow) {
        (Backend::Mysql, _) => vec![false],
        (_, true) => vec![false, true],
        (_, false) => vec![true],
    };
    let mut cases = Vec::new();
    for &position in &positions {
        for &no_tx in &modes {
            for direction in [RepairDirection::Finish, RepairDirection::Revert] {
                cases.push(Case {
                    kind,
                    position,
                    no_tx,
                    direction,
                });
            }
        }
    }
    let mut failures = Vec::new();
    for c in &cases {
        if let Err(e) = run_case(backend, *c).await {
            failures.push(format!("{c:?}: {e}"));
        }
    }
    println!(
        "repair matrix {backend:?} {kind:?}: {} of {} cases pass",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

macro_rules! matrix_tests {
    ($($name:ident: $backend:ident, $kind:ident;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                matrix(Backend::$backend, Kind::$kind).await;
            }
        )*
    };
}

matrix_tests! {
    postgres_bad_sql: Postgres, BadSql;
    postgres_nulls: Postgres, Nulls;
    postgres_duplicates: Postgres, Duplicates;
    postgres_orphans: Postgres, Orphans;
    postgres_lock: Postgres, Lock;
    mysql_bad_sql: Mysql, BadSql;
    mysql_nulls: Mysql, Nulls;
    mysql_duplicates: Mysql, Duplicates;
    mysql_orphans: Mysql, Orphans;
    mysql_lock: Mysql, Lock;
    sqlite_bad_sql: Sqlite, BadSql;
    sqlite_nulls: Sqlite, Nulls;
    sqlite_duplicates: Sqlite, Duplicates;
    sqlite_orphans: Sqlite, Orphans;
}

/// Real histories: the last multi-step migration of a corpus, with a statement that fails
/// inserted before each of its steps in turn, run step by step. Each time doctor finds it
/// part-way at the right step and `repair --revert` restores the schema before it exactly;
/// at the end, the file fixed, `repair --finish` reaches the schema the clean history gives.
async fn corpus_history(backend: Backend, rel: &str) {
    let Ok(root) = std::env::var("KEEL_CORPORA") else {
        eprintln!("skipped: KEEL_CORPORA is not set (set it to ../shared/corpora; .ci/run does)");
        return;
    };
    let dialect = match backend {
        Backend::Postgres => keel_core::Dialect::Postgres,
        Backend::Mysql => keel_core::Dialect::Mysql,
        Backend::Sqlite => keel_core::Dialect::Sqlite,
    };
    let src = keel_core::migrations::read_dir(&Path::new(&root).join(rel)).unwrap();
    let (mi, m) = src
        .migrations
        .iter()
        .enumerate()
        .rev()
        .find(|(_, m)| keel_core::splitter::split(&m.script, dialect).len() >= 3)
        .expect("a migration with 3 or more steps");
    let steps: Vec<String> = keel_core::splitter::split(&m.script, dialect)
        .iter()
        .map(|s| s.sql(&m.script).to_string())
        .collect();
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    for h in &src.migrations[..mi] {
        write(dir, &h.name, &h.script);
    }
    let db = TestDb::new(backend).await;
    let s = settings(&db.url, dir);
    run_deploy(&s).await.unwrap();
    let pre = introspect(&db.url).await;
    let n = steps.len();
    let positions: Vec<usize> = if n <= 8 {
        (1..=n).collect()
    } else {
        (0..8).map(|i| 1 + i * (n - 1) / 7).collect()
    };
    let bad = "INSERT INTO keel_no_such_table VALUES (1)";
    let script = |k: Option<usize>| {
        let mut out = String::from("-- keel:no-transaction\n");
        for (i, st) in steps.iter().enumerate() {
            if Some(i + 1) == k {
                out.push_str(bad);
                out.push_str(";\n");
            }
            out.push_str(st);
            out.push_str(";\n");
        }
        out
    };
    let mut cases = 0;
    for &k in &positions {
        write(dir, &m.name, &script(Some(k)));
        let e = run_deploy(&s).await.unwrap_err();
        assert_eq!(e.code(), "K3018", "{rel} k={k}: {e}");
        let report = doctor(&s).await.unwrap();
        let d = &report.diagnoses[0];
        let expected = if k == 1 {
            Classification::NotApplied
        } else {
            Classification::PartWay { applied: k - 1 }
        };
        // Steps that change no schema make neighbouring states equal; the ledger's count
        // decides among them, so the classification is exact either way.
        assert_eq!(
            d.classification, expected,
            "{rel} k={k}: {:?}",
            d.matching_states
        );
        repair(
            &s,
            &m.name,
            RepairOptions {
                direction: RepairDirection::Revert,
                allow_data_loss: true,
                dry_run: false,
            },
            &mut |_| true,
        )
        .await
        .unwrap_or_else(|e| panic!("{rel} k={k}: revert: {e}"));
        let after = introspect(&db.url).await;
        let dd = diff(dialect, &pre, &after);
        assert!(
            dd.is_empty(),
            "{rel} k={k}: after revert: {:?}",
            keel_core::schema::summary::summarize(&dd)
        );
        cases += 1;
    }
    // Last: fail part-way, fix the file, finish.
    let k = *positions.last().unwrap();
    write(dir, &m.name, &script(Some(k)));
    run_deploy(&s).await.unwrap_err();
    write(dir, &m.name, &script(None));
    repair(
        &s,
        &m.name,
        RepairOptions {
            direction: RepairDirection::Finish,
            allow_data_loss: false,
            dry_run: false,
        },
        &mut |_| true,
    )
    .await
    .unwrap_or_else(|e| panic!("{rel}: finish: {e}"));
    let reference = TestDb::new(backend).await;
    let rt = tempfile::tempdir().unwrap();
    for h in &src.migrations[..mi] {
        write(rt.path(), &h.name, &h.script);
    }
    write(rt.path(), &m.name, &script(None));
    run_deploy(&settings(&reference.url, rt.path()))
        .await
        .unwrap();
    let dd = diff(
        dialect,
        &introspect(&reference.url).await,
        &introspect(&db.url).await,
    );
    assert!(
        dd.is_empty(),
        "{rel}: after finish: {:?}",
        keel_core::schema::summary::summarize(&dd)
    );
    assert_eq!(status(&s).await.unwrap().exit_code(), 0);
    cases += 1;
    println!(
        "repair matrix corpus {rel}: {cases} of {cases} cases pass ({} steps in {})",
        n, m.name
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_postgres_rallly() {
    corpus_history(
        Backend::Postgres,
        "lukevella__rallly/packages/database/prisma/migrations",
    )
    .await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_postgres_hoppscotch() {
    corpus_history(
        Backend::Postgres,
        "hoppscotch__hoppscotch/packages/hoppscotch-backend/prisma/migrations",
    )
    .await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_mysql_flipt() {
    corpus_history(Backend::Mysql, "flipt-io__flipt/config/migrations/mysql").await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_sqlite_pingvin() {
    corpus_history(
        Backend::Sqlite,
        "stonith404__pingvin-share/backend/prisma/migrations",
    )
    .await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_sqlite_teable() {
    corpus_history(
        Backend::Sqlite,
        "teableio__teable/packages/db-main-prisma/prisma/sqlite/migrations",
    )
    .await;
}
