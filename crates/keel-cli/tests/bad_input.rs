//! Bad input (issue #7, item 4): each case runs the `keel` binary on broken input and expects
//! a coded error (`error[K####]`), exit 1, no panic, and no change to the database.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use keel_test_support::{Backend, TestDb};
use std::path::Path;

fn write(dir: &Path, name: &str, sql: &[u8]) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("migration.sql"), sql).unwrap();
}

/// A case: its name, how to set up the project directory, the database URL (`None` = the
/// test's SQLite database), the arguments, and the expected code.
struct Case {
    name: &'static str,
    setup: fn(&Path),
    url: Option<String>,
    args: Vec<&'static str>,
    code: &'static str,
    /// SQL run on the test database first (e.g. a broken ledger table).
    prepare: &'static str,
}

impl Case {
    fn prepare(mut self, sql: &'static str) -> Case {
        self.prepare = sql;
        self
    }
}

fn nothing(_: &Path) {}

fn one_good(dir: &Path) {
    write(
        &dir.join("migrations"),
        "1_init",
        b"CREATE TABLE t (id INT);\n",
    );
}

fn cases() -> Vec<Case> {
    let c = |name, setup: fn(&Path), url: Option<&str>, args: Vec<&'static str>, code| Case {
        name,
        setup,
        url: url.map(String::from),
        args,
        code,
        prepare: "",
    };
    vec![
        // Issue #13: targets nobody named, and a monorepo root.
        c(
            "no migrations directory (deploy)",
            nothing,
            None,
            vec!["deploy"],
            "K4012",
        ),
        c(
            "no migrations directory (status)",
            nothing,
            None,
            vec!["status"],
            "K4012",
        ),
        c("blank URL", one_good, Some("  "), vec!["deploy"], "K1013"),
        c("postgres:// alone", one_good, Some("postgres://"), vec!["deploy"], "K1013"),
        c(
            "PostgreSQL URL without a database",
            one_good,
            Some("postgres://postgres@127.0.0.1:5432"),
            vec!["deploy"],
            "K1013",
        ),
        c(
            "template1",
            one_good,
            Some("postgres://postgres@127.0.0.1:5432/template1"),
            vec!["deploy"],
            "K1013",
        ),
        c(
            "MySQL URL without a database",
            one_good,
            Some("mysql://root@127.0.0.1:3306"),
            vec!["deploy"],
            "K1013",
        ),
        c(
            "password with an unencoded slash",
            one_good,
            Some("postgres://u:Zq9rt/secret@127.0.0.1:5432/db"),
            vec!["deploy"],
            "K1013",
        ),
        c(
            "libpq keyword string",
            one_good,
            Some("host=127.0.0.1 password=secret dbname=x"),
            vec!["deploy"],
            "K1013",
        ),
        c(
            "malformed URL",
            nothing,
            Some("not a url"),
            vec!["status"],
            "K1013",
        ),
        c(
            "unsupported scheme",
            nothing,
            Some("ftp://host/db"),
            vec!["status"],
            "K1013",
        ),
        c(
            "bad IPv6 host",
            nothing,
            Some("postgres://postgres@[::1:5432/test"),
            vec!["status"],
            "K1013",
        ),
        c(
            "bad port",
            nothing,
            Some("postgres://postgres@127.0.0.1:notaport/test"),
            vec!["status"],
            "K1013",
        ),
        c(
            "unreachable host",
            nothing,
            Some("postgres://postgres@127.0.0.1:1/test"),
            vec!["status"],
            "K1001",
        ),
        c(
            "unreachable MySQL",
            nothing,
            Some("mysql://root@127.0.0.1:1/test"),
            vec!["deploy"],
            "K1001",
        ),
        c(
            "wrong password",
            nothing,
            Some("mysql://root:wrong-secret@127.0.0.1:3306/test"),
            vec!["status"],
            "K1001",
        ),
        c(
            "unknown role",
            nothing,
            Some("postgres://keel_no_such_role@127.0.0.1:5432/test"),
            vec!["status"],
            "K1001",
        ),
        c(
            "missing PostgreSQL database",
            nothing,
            Some("postgres://postgres@127.0.0.1:5432/keel_no_such_db"),
            vec!["deploy"],
            "K1003",
        ),
        c(
            "missing MySQL database",
            nothing,
            Some("mysql://root@127.0.0.1:3306/keel_no_such_db"),
            vec!["status"],
            "K1003",
        ),
        c(
            "SQLite in a missing directory",
            nothing,
            Some("sqlite:///keel_no_such_dir/x.db"),
            vec!["status"],
            "K1001",
        ),
        c(
            "a file instead of a folder",
            |d| std::fs::write(d.join("migrations"), "x").unwrap(),
            None,
            vec!["deploy"],
            "K4012",
        ),
        c(
            "non-UTF-8 SQL",
            |d| write(&d.join("migrations"), "1_bad", b"SELECT '\xff\xfe';\n"),
            None,
            vec!["deploy"],
            "K4012",
        ),
        c(
            "folder without migration.sql",
            |d| std::fs::create_dir_all(d.join("migrations/1_empty")).unwrap(),
            None,
            vec!["deploy"],
            "K3015",
        ),
        c(
            "duplicate migration names",
            |d| {
                std::fs::create_dir_all(d.join("migrations")).unwrap();
                std::fs::write(d.join("migrations/1_a.sql"), "SELECT 1;").unwrap();
                std::fs::write(d.join("migrations/1_a.up.sql"), "SELECT 1;").unwrap();
            },
            None,
            vec!["deploy"],
            "K4013",
        ),
        c(
            "version that is not a number",
            |d| write(&d.join("migrations"), "abc_init", b"SELECT 1;"),
            None,
            vec!["deploy"],
            "K4016",
        ),
        c(
            "name with a space",
            |d| write(&d.join("migrations"), "1_a b", b"SELECT 1;"),
            None,
            vec!["deploy"],
            "K4016",
        ),
        c(
            "name with ..",
            |d| write(&d.join("migrations"), "1_a..b", b"SELECT 1;"),
            None,
            vec!["deploy"],
            "K4016",
        ),
        c(
            "symlink loop",
            |d| {
                std::fs::create_dir_all(d.join("migrations")).unwrap();
                std::os::unix::fs::symlink("loop", d.join("migrations/loop")).unwrap();
            },
            None,
            vec!["deploy"],
            "K4012",
        ),
        c(
            "unknown directive",
            |d| {
                write(
                    &d.join("migrations"),
                    "1_a",
                    b"-- keel:no-transction\nSELECT 1;",
                )
            },
            None,
            vec!["deploy"],
            "K4011",
        ),
        c(
            "bad directive duration",
            |d| {
                write(
                    &d.join("migrations"),
                    "1_a",
                    b"-- keel:lock-timeout=soon\nSELECT 1;",
                )
            },
            None,
            vec!["deploy"],
            "K4011",
        ),
        c(
            "invalid migration_lock.toml",
            |d| {
                one_good(d);
                std::fs::write(d.join("migrations/migration_lock.toml"), "provider = ").unwrap();
            },
            None,
            vec!["deploy"],
            "K4014",
        ),
        c(
            "provider mismatch",
            |d| {
                one_good(d);
                std::fs::write(
                    d.join("migrations/migration_lock.toml"),
                    "provider = \"postgresql\"\n",
                )
                .unwrap();
            },
            None,
            vec!["deploy"],
            "K3019",
        ),
        c(
            "invalid keel.toml",
            |d| std::fs::write(d.join("keel.toml"), "database_url = ").unwrap(),
            None,
            vec!["status"],
            "K4020",
        ),
        c(
            "unknown keel.toml key",
            |d| std::fs::write(d.join("keel.toml"), "databse_url = \"x\"\n").unwrap(),
            None,
            vec!["status"],
            "K4020",
        ),
        c(
            "bad lock_timeout in keel.toml",
            |d| std::fs::write(d.join("keel.toml"), "lock_timeout = \"soon\"\n").unwrap(),
            None,
            vec!["status"],
            "K4020",
        ),
        c(
            "bad --lock-timeout",
            nothing,
            None,
            vec!["--lock-timeout", "soon", "status"],
            "K4020",
        ),
        c(
            "unterminated string",
            |d| {
                write(
                    &d.join("migrations"),
                    "1_a",
                    b"CREATE TABLE t (id INT);\nINSERT INTO t VALUES ('oops);\n",
                )
            },
            None,
            vec!["deploy"],
            "K3018",
        ),
        c(
            "broken statement",
            |d| {
                write(
                    &d.join("migrations"),
                    "1_a",
                    b"CREATE TABLE t (id INT);\nCREATE TABLEE u (id INT);\n",
                )
            },
            None,
            vec!["deploy"],
            "K3018",
        ),
        c(
            "resolve an unknown migration",
            one_good,
            None,
            vec!["resolve", "--applied", "9_nope"],
            "K3017",
        ),
        c(
            "resolve --rolled-back a pending one",
            one_good,
            None,
            vec!["resolve", "--rolled-back", "1_init"],
            "K3012",
        ),
        c(
            "deploy --to an unknown version",
            one_good,
            None,
            vec!["deploy", "--to", "999"],
            "K4004",
        ),
        c(
            "bad diff source",
            nothing,
            None,
            vec!["diff", "--from", "nonsense", "--to", "empty"],
            "K4005",
        ),
        c(
            "bad migration name for new",
            nothing,
            None,
            vec!["new", "Bad Name"],
            "K4010",
        ),
        c(
            "repair a migration that is not failed",
            one_good,
            None,
            vec!["repair", "1_init", "--finish", "--yes"],
            "K3012",
        ),
        c(
            "rollback without down.sql",
            |d| {
                one_good(d);
            },
            None,
            vec!["rollback", "--yes"],
            "K4063",
        ),
        c(
            "baseline an empty database",
            nothing,
            None,
            vec!["baseline"],
            "K4030",
        ),
        c(
            "bad --rename",
            |d| std::fs::write(d.join("schema.sql"), "CREATE TABLE t (id INT);").unwrap(),
            None,
            vec!["plan", "x", "--rename", "a.b.c=d"],
            "K4060",
        ),
        c(
            "plan from a missing schema file",
            nothing,
            None,
            vec!["plan", "x", "--schema", "nope.sql"],
            "K4012",
        ),
        c(
            "reset a server database not marked disposable",
            nothing,
            Some("postgres://postgres@127.0.0.1:5432/test"),
            vec!["reset", "--yes"],
            "K4071",
        ),
        c(
            "lint an unknown migration",
            one_good,
            None,
            vec!["lint", "9_nope"],
            "K3017",
        ),
        c(
            "named migrations directory that does not exist",
            nothing,
            None,
            vec!["--migrations", "no/such/dir", "deploy"],
            "K4012",
        ),
        c(
            "keel.toml migrations directory that does not exist",
            |d| std::fs::write(d.join("keel.toml"), "migrations = \"db/migrations\"\n").unwrap(),
            None,
            vec!["status"],
            "K4012",
        ),
        c(
            "a 50 MB migration that breaks at its end",
            |d| {
                let mut sql = String::from("CREATE TABLE big (id INT, v TEXT);\n");
                let row = format!("INSERT INTO big VALUES (1, '{}');\n", "x".repeat(1000));
                while sql.len() < 50 * 1024 * 1024 {
                    sql.push_str(&row);
                }
                sql.push_str("INSERT INTO no_such_table VALUES (1);\n");
                write(&d.join("migrations"), "1_big", sql.as_bytes());
            },
            None,
            vec!["deploy"],
            "K3018",
        ),
        c(
            "ledger table with unexpected columns",
            one_good,
            None,
            vec!["status"],
            "K1010",
        )
        .prepare("CREATE TABLE _keel_migrations (id TEXT PRIMARY KEY, version INTEGER)"),
        c(
            "ledger row for a migration that is not on disk",
            one_good,
            None,
            vec!["deploy"],
            "K4002",
        )
        .prepare("CREATE TABLE _keel_migrations (id TEXT PRIMARY KEY NOT NULL, checksum TEXT NOT NULL, finished_at DATETIME, migration_name TEXT NOT NULL, logs TEXT, rolled_back_at DATETIME, started_at DATETIME NOT NULL DEFAULT current_timestamp, applied_steps_count INTEGER UNSIGNED NOT NULL DEFAULT 0); INSERT INTO _keel_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES ('x', 'abc', 1700000000000, '0_gone', 1700000000000, 1)"),
        c(
            "TLS required but the server has none",
            nothing,
            Some("mysql://root@127.0.0.1:3306/test?ssl-mode=REQUIRED"),
            vec!["status"],
            "K1011",
        ),
        c(
            "CA file that does not exist",
            nothing,
            Some("postgres://postgres@localhost:5432/test?sslmode=verify-full&sslrootcert=/no/such/ca.pem"),
            vec!["status"],
            "K1011",
        ),
        c(
            "--lock-attempts 0",
            nothing,
            None,
            vec!["--lock-attempts", "0", "status"],
            "K4020",
        ),
        c(
            "bad --statement-timeout",
            nothing,
            None,
            vec!["--statement-timeout", "forever", "status"],
            "K4020",
        ),
        c(
            "bad --deploy-lock-timeout",
            nothing,
            None,
            vec!["--deploy-lock-timeout=-3s", "deploy"],
            "K4020",
        ),
        c(
            "shadow URL that is the target",
            one_good,
            None,
            vec!["drift"],
            "K3014",
        ),
    ]
}

#[tokio::test]
async fn every_bad_input_is_a_coded_error_and_changes_nothing() {
    let mut failures = Vec::new();
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for case in &cases {
        let db = TestDb::new(Backend::Sqlite).await;
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        (case.setup)(dir);
        // Every case but the missing-directory ones runs in a project with a history, even an
        // empty one: without one keel stops before connecting (K4012, issue #13 item 3).
        if !case.name.starts_with("no migrations directory")
            && !dir.join("migrations").exists()
            && !dir.join("prisma").exists()
        {
            std::fs::create_dir_all(dir.join("migrations")).unwrap();
        }
        // Cases that need a ledger and an applied migration to act on.
        if matches!(case.code, "K4063") || case.name.starts_with("repair") {
            Command::cargo_bin("keel")
                .unwrap()
                .current_dir(dir)
                .env_remove("DATABASE_URL")
                .args(["--database-url", &db.url, "deploy"])
                .assert()
                .success();
        }
        if !case.prepare.is_empty() {
            db.execute(case.prepare).await;
        }
        let before = db.scalar("SELECT COUNT(*) FROM sqlite_master").await;
        let url = case.url.clone().unwrap_or_else(|| db.url.clone());
        let mut cmd = Command::cargo_bin("keel").unwrap();
        cmd.current_dir(dir)
            .env_remove("DATABASE_URL")
            .env_remove("SHADOW_DATABASE_URL")
            .args(["--database-url", &url]);
        if case.code == "K3014" {
            cmd.args(["--shadow-database-url", &db.url]);
        }
        let o = cmd.args(&case.args).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let after = db.scalar("SELECT COUNT(*) FROM sqlite_master").await;
        let tables_ok = case.code == "K3018" || before == after;
        if o.status.code() != Some(1)
            || !text.contains(&format!("error[{}]", case.code))
            || text.contains("panicked")
            || !tables_ok
        {
            failures.push(format!(
                "{}: exit {:?}, schema objects {before} → {after}\n{text}",
                case.name,
                o.status.code()
            ));
        }
    }
    println!(
        "bad input: {} of {} cases pass",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

/// PostgreSQL: an unterminated dollar quote swallows the rest of the script into one step,
/// which the server rejects; the migration ran in one transaction, so nothing remains but the
/// failed ledger row.
#[tokio::test]
async fn unterminated_dollar_quote_on_postgres() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    write(
        &t.path().join("migrations"),
        "1_fn",
        b"CREATE TABLE t (id INT);\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1;\nCREATE TABLE u (id INT);\n",
    );
    let o = Command::cargo_bin("keel")
        .unwrap()
        .current_dir(t.path())
        .env_remove("DATABASE_URL")
        .args(["--database-url", &db.url, "deploy"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("error[K3018]"), "{text}");
    assert!(text.contains("unterminated dollar-quoted string"), "{text}");
    assert!(!text.contains("panicked"));
    assert!(!db.has_table("t").await);
    assert!(!db.has_table("u").await);
}

/// Not errors: an empty and a comment-only migration apply as no-ops and are recorded, as
/// Prisma applies them (`prisma migrate dev --create-only` writes "-- This is an empty
/// migration."), so existing Prisma histories deploy unchanged.
#[tokio::test]
async fn empty_and_comment_only_migrations_apply_as_no_ops() {
    let db = TestDb::new(Backend::Sqlite).await;
    let t = tempfile::tempdir().unwrap();
    let mig = t.path().join("migrations");
    write(&mig, "1_empty", b"");
    write(&mig, "2_comment", b"-- This is an empty migration.\n");
    let o = Command::cargo_bin("keel")
        .unwrap()
        .current_dir(t.path())
        .env_remove("DATABASE_URL")
        .args(["--database-url", &db.url, "deploy"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM _keel_migrations WHERE finished_at IS NOT NULL AND applied_steps_count = 0")
            .await,
        2
    );
}
