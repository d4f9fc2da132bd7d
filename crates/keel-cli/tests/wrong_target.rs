//! Never act on the wrong database (issue #13, items 1-6 and 8): Prisma's `?schema=`, `keel
//! reset`'s disposable mark bound to its database, no migrations directory, `.env`, URLs that
//! name no database, and ledger names that would inject SQL. Each test failed before its fix.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use keel_test_support::{write_migration, Backend, TestDb};
use std::path::Path;

/// `keel` in `dir` with no DATABASE_URL from the test's own environment.
fn keel(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("keel").unwrap();
    c.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("SHADOW_DATABASE_URL")
        .env("NO_COLOR", "1");
    c
}

fn run(c: &mut Command) -> (i32, String) {
    let o = c.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!text.contains("panicked"), "{text}");
    (o.status.code().unwrap_or(-1), text)
}

fn two_migrations(dir: &Path) {
    write_migration(
        &dir.join("migrations"),
        "1_init",
        "CREATE TABLE t (id INT PRIMARY KEY);\n",
    );
    write_migration(
        &dir.join("migrations"),
        "2_more",
        "CREATE TABLE u (id INT PRIMARY KEY);\n",
    );
}

fn with_query(url: &str, q: &str) -> String {
    if url.contains('?') {
        format!("{url}&{q}")
    } else {
        format!("{url}?{q}")
    }
}

// ---- item 1: Prisma's ?schema= ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_parameter_holds_the_ledger_and_the_tables() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    two_migrations(t.path());
    std::fs::write(
        t.path().join("migrations/migration_lock.toml"),
        "provider = \"postgresql\"\n",
    )
    .unwrap();
    let url = with_query(&db.url, "schema=app");
    // The first deploy creates the schema, as Prisma's does, and everything lands in it.
    let (code, out) = run(keel(t.path()).args(["--database-url", &url, "deploy", "--to", "1"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'app' AND tablename IN ('t', '_prisma_migrations')").await, 2);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'")
            .await,
        0
    );
    // The second sees app's ledger: it applies only 2_more.
    let (code, out) = run(keel(t.path()).args(["--database-url", &url, "deploy"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM app._prisma_migrations")
            .await,
        2
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'")
            .await,
        0
    );
    let (code, out) = run(keel(t.path()).args(["--database-url", &url, "status"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2_more"), "{out}");
    // Drift replays the history in a shadow with the same schema name and compares app alone.
    let (code, out) = run(keel(t.path()).args(["--database-url", &url, "drift"]));
    assert_eq!(code, 0, "{out}");
    db.execute("ALTER TABLE app.t ADD COLUMN hand INT").await;
    let (code, out) = run(keel(t.path()).args(["--database-url", &url, "drift"]));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("hand"), "{out}");
    // Without the parameter, public has no ledger and nothing of app is deployed twice.
    let (code, out) = run(keel(t.path()).args(["--database-url", &db.url, "deploy", "--dry-run"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'")
            .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_per_tenant_deploys_and_resets_one_tenant() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    two_migrations(t.path());
    for tenant in ["Tenant_A", "tenant_b"] {
        let url = with_query(&db.url, &format!("schema={tenant}"));
        let (code, out) = run(keel(t.path()).args(["--database-url", &url, "deploy"]));
        assert_eq!(code, 0, "{out}");
    }
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'Tenant_A'")
            .await,
        3
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'tenant_b'")
            .await,
        3
    );
    // reset with ?schema= empties that schema only.
    let url = with_query(&db.url, "schema=tenant_b");
    std::fs::write(
        t.path().join("keel.toml"),
        format!("database_url = \"{url}\"\n[database]\ndisposable = true\n"),
    )
    .unwrap();
    let (code, out) = run(keel(t.path()).args(["reset", "--yes"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'tenant_b'")
            .await,
        0
    );
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'Tenant_A'")
            .await,
        3
    );
}

// ---- item 2: reset binds its mark to keel.toml's database ---------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_refuses_a_database_url_other_than_the_marked_one() {
    let dev = TestDb::new(Backend::Postgres).await;
    let prod = TestDb::new(Backend::Postgres).await;
    prod.execute("CREATE TABLE orders (id INT); INSERT INTO orders VALUES (1)")
        .await;
    let t = tempfile::tempdir().unwrap();
    two_migrations(t.path());
    std::fs::write(
        t.path().join("keel.toml"),
        format!(
            "database_url = \"{}\"\n[database]\ndisposable = true\n",
            dev.url
        ),
    )
    .unwrap();
    let (code, out) = run(keel(t.path())
        .env("DATABASE_URL", &prod.url)
        .args(["reset", "--yes"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("K4071"), "{out}");
    assert!(prod.has_table("orders").await);
    // The mark works for its own database.
    let (code, out) = run(keel(t.path()).args(["reset", "--yes"]));
    assert_eq!(code, 0, "{out}");
    // A mark without a database_url binds to nothing.
    std::fs::write(
        t.path().join("keel.toml"),
        "[database]\ndisposable = true\n",
    )
    .unwrap();
    let (code, out) = run(keel(t.path())
        .env("DATABASE_URL", &prod.url)
        .args(["reset", "--yes"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("K4071") && out.contains("names none"), "{out}");
    assert!(prod.has_table("orders").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_of_a_sqlite_file_needs_the_keel_toml_project() {
    let home = tempfile::tempdir().unwrap();
    let app = home.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    let file = app.join("prod.db");
    let url = format!("sqlite://{}", file.display());
    let conn_url = format!("sqlite://{}?mode=rwc", file.display());
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&conn_url).await.unwrap();
        sqlx::raw_sql("CREATE TABLE keep (id INT); INSERT INTO keep VALUES (1)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    // A shell in $HOME without keel.toml: the file is below the working directory, but no
    // project claims it.
    let (code, out) = run(keel(home.path()).args(["--database-url", &url, "reset", "--yes"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("K4071"), "{out}");
    // A project whose directory holds a symlink to the file elsewhere: still outside.
    let proj = home.path().join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join("keel.toml"), "").unwrap();
    std::os::unix::fs::symlink(&file, proj.join("link.db")).unwrap();
    let (code, out) =
        run(keel(&proj).args(["--database-url", "sqlite://link.db", "reset", "--yes"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("K4071"), "{out}");
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&conn_url).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM keep")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    // A file of the project itself may be reset.
    std::fs::write(app.join("keel.toml"), "").unwrap();
    let (code, out) =
        run(keel(&app).args(["--database-url", "sqlite://prod.db", "reset", "--yes"]));
    assert_eq!(code, 0, "{out}");
}

// ---- item 3: no migrations directory -----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_migrations_directory_is_k4012_and_writes_nothing() {
    for backend in [Backend::Postgres, Backend::Mysql, Backend::Sqlite] {
        let db = TestDb::new(backend).await;
        let t = tempfile::tempdir().unwrap();
        for args in [vec!["deploy"], vec!["status"], vec!["deploy", "--dry-run"]] {
            let (code, out) = run(keel(t.path()).args(["--database-url", &db.url]).args(&args));
            assert_eq!(code, 1, "{backend:?} {args:?}: {out}");
            assert!(
                out.contains("K4012") && out.contains("no migrations directory"),
                "{out}"
            );
        }
        assert!(!db.has_table("_keel_migrations").await);
        assert!(!db.has_table("_prisma_migrations").await);
    }
}

// ---- item 4: .env -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dotenv_is_read_and_the_environment_wins() {
    let db = TestDb::new(Backend::Postgres).await;
    let other = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("prisma")).unwrap();
    write_migration(
        &t.path().join("prisma/migrations"),
        "1_init",
        "CREATE TABLE t (id INT);\n",
    );
    std::fs::write(
        t.path().join("prisma/migrations/migration_lock.toml"),
        "provider = \"postgresql\"\n",
    )
    .unwrap();
    std::fs::write(
        t.path().join(".env"),
        format!("# Prisma\nDATABASE_URL=\"{}\"\n", db.url),
    )
    .unwrap();
    let (code, out) = run(keel(t.path()).arg("deploy"));
    assert_eq!(code, 0, "{out}");
    assert!(db.has_table("t").await);
    assert!(!t.path().join("keel.db").exists());
    // A real environment variable wins over .env.
    let (code, out) = run(keel(t.path()).env("DATABASE_URL", &other.url).arg("deploy"));
    assert_eq!(code, 0, "{out}");
    assert!(other.has_table("t").await);
    // prisma/.env is read too; a different value there is a conflict, not a guess.
    std::fs::remove_file(t.path().join(".env")).unwrap();
    std::fs::write(
        t.path().join("prisma/.env"),
        format!("DATABASE_URL={}\n", db.url),
    )
    .unwrap();
    let (code, out) = run(keel(t.path()).arg("status"));
    assert_eq!(code, 0, "{out}");
    std::fs::write(
        t.path().join(".env"),
        format!("DATABASE_URL={}\n", other.url),
    )
    .unwrap();
    let (code, out) = run(keel(t.path()).arg("status"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("K4021"), "{out}");
}

#[test]
fn no_sqlite_file_for_a_postgresql_history() {
    let t = tempfile::tempdir().unwrap();
    write_migration(
        &t.path().join("migrations"),
        "1_init",
        "CREATE TABLE t (id INT);\n",
    );
    std::fs::write(
        t.path().join("migrations/migration_lock.toml"),
        "provider = \"postgresql\"\n",
    )
    .unwrap();
    let (code, out) = run(keel(t.path()).args(["--database-url", "sqlite://keel.db", "deploy"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("K3019"), "{out}");
    assert!(!t.path().join("keel.db").exists());
    // And with no URL at all: K1013, no file.
    let (code, out) = run(keel(t.path()).arg("deploy"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("K1013") && out.contains("no database URL"),
        "{out}"
    );
    assert!(!t.path().join("keel.db").exists());
}

// ---- item 5: URLs that name no database, or the wrong kind --------------------------------

#[test]
fn urls_without_a_database_are_refused() {
    let t = tempfile::tempdir().unwrap();
    two_migrations(t.path());
    for (url, says) in [
        ("", "no database URL"),
        ("   ", "no database URL"),
        ("postgres://", "no database name"),
        ("postgres://postgres@127.0.0.1:5432", "no database name"),
        ("postgres://postgres@127.0.0.1:5432/", "no database name"),
        (
            "postgres://postgres@127.0.0.1:5432/template1",
            "template database",
        ),
        (
            "postgres://postgres@127.0.0.1:5432/template0",
            "template database",
        ),
        ("mysql://root@127.0.0.1:3306", "no database name"),
        ("mariadb://root@127.0.0.1:3306/", "no database name"),
        (
            "postgres://postgres@127.0.0.1:5432/x?schema=",
            "`?schema=` is empty",
        ),
        ("sqlite://x.db?bogus=1", "unknown SQLite URL parameter"),
    ] {
        let (code, out) = run(keel(t.path()).env("DATABASE_URL", url).arg("deploy"));
        assert_eq!(code, 1, "{url:?}: {out}");
        assert!(
            out.contains("K1013") && out.contains(says),
            "{url:?}: {out}"
        );
    }
    assert!(!t.path().join("keel.db").exists());
    assert!(!t.path().join("x.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_read_only_is_never_written() {
    let t = tempfile::tempdir().unwrap();
    two_migrations(t.path());
    let file = t.path().join("ro.db");
    {
        use sqlx::Connection;
        let mut c =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", file.display()))
                .await
                .unwrap();
        sqlx::raw_sql("CREATE TABLE keep (id INT)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    let before = std::fs::read(&file).unwrap();
    let url = format!("sqlite://{}?mode=ro", file.display());
    let (code, out) = run(keel(t.path()).args(["--database-url", &url, "deploy"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("read"), "{out}");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    // Reading works.
    let (code, out) = run(keel(t.path()).args(["--database-url", &url, "status"]));
    assert_ne!(code, 1, "{out}");
    // mode=rw never creates a file.
    let url = format!("sqlite://{}?mode=rw", t.path().join("absent.db").display());
    let (code, out) = run(keel(t.path()).args(["--database-url", &url, "status"]));
    assert_eq!(code, 1, "{out}");
    assert!(!t.path().join("absent.db").exists());
}

// ---- item 8: ledger names never reach SQL unquoted ---------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_table_injection_is_refused_on_every_database() {
    for backend in [Backend::Postgres, Backend::Mysql, Backend::Sqlite] {
        let db = TestDb::new(backend).await;
        db.execute("CREATE TABLE victim (id INT)").await;
        let t = tempfile::tempdir().unwrap();
        two_migrations(t.path());
        for name in [
            "x\" (id INT); DROP TABLE victim; --",
            "x` (id INT); DROP TABLE victim; --",
            "public.victim",
            &"l".repeat(64),
        ] {
            let (code, out) = run(keel(t.path()).args([
                "--database-url",
                &db.url,
                "--ledger-table",
                name,
                "resolve",
                "--applied",
                "1_init",
            ]));
            assert_eq!(code, 1, "{backend:?} {name}: {out}");
            assert!(out.contains("K4020"), "{out}");
            std::fs::write(
                t.path().join("keel.toml"),
                format!("ledger_table = {name:?}\n"),
            )
            .unwrap();
            let (code, out) = run(keel(t.path()).args(["--database-url", &db.url, "deploy"]));
            assert_eq!(code, 1, "{backend:?} {name}: {out}");
            assert!(out.contains("K4020"), "{out}");
            std::fs::remove_file(t.path().join("keel.toml")).unwrap();
        }
        assert!(db.has_table("victim").await, "{backend:?}");
    }
}

// ---- item 7: prisma.config.ts ------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prisma_config_moves_the_migrations_when_it_says_so_plainly() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    write_migration(
        &t.path().join("db/migrations"),
        "1_init",
        "CREATE TABLE t (id INT);\n",
    );
    std::fs::write(
        t.path().join("prisma.config.ts"),
        "import { defineConfig, env } from 'prisma/config';\nexport default defineConfig({\n  schema: 'db/schema.prisma',\n  migrations: { path: 'db/migrations' },\n  datasource: { url: env('DATABASE_URL') },\n});\n",
    )
    .unwrap();
    let (code, out) = run(keel(t.path()).args(["--database-url", &db.url, "deploy"]));
    assert_eq!(code, 0, "{out}");
    assert!(db.has_table("t").await);
    std::fs::write(
        t.path().join("prisma.config.ts"),
        "export default defineConfig({ migrations: { path: path.join(__dirname, 'db/migrations') } });\n",
    )
    .unwrap();
    let (code, out) = run(keel(t.path()).args(["--database-url", &db.url, "status"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("K4020") && out.contains("computed by code"),
        "{out}"
    );
    // The flag still works.
    let (code, out) = run(keel(t.path()).args([
        "--database-url",
        &db.url,
        "--migrations",
        "db/migrations",
        "status",
    ]));
    assert_eq!(code, 0, "{out}");
}
