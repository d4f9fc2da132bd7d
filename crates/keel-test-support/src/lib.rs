//! Test support: [`TestDb`] creates a uniquely named database on a real server (or a temp
//! SQLite file) and drops it afterwards, so tests run in parallel and leave nothing behind;
//! [`db_test!`] runs one async test body on PostgreSQL, MariaDB and SQLite.
//!
//! Servers (override with environment variables):
//! - PostgreSQL: `KEEL_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`
//! - MySQL/MariaDB: `KEEL_TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306/mysql`
//!
//! An unreachable server fails the test loudly with how to start it; it never passes silently.
#![allow(clippy::unwrap_used)]

pub mod pgbouncer;
pub mod proxy;

use rand::Rng;
use sqlx::{Connection, Row};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// MySQL/MariaDB.
    Mysql,
    /// SQLite (temp file).
    Sqlite,
}

/// Writes `<dir>/<name>/migration.sql` with `sql` (a Prisma-layout migration folder).
///
/// # Panics
/// When the file cannot be written.
pub fn write_migration(dir: &std::path::Path, name: &str, sql: &str) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("migration.sql"), sql).unwrap();
}

/// A finished command's stdout and stderr, one after the other, as text (what a user reads).
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The `keel` binary of this workspace, run in `dir` against `url`, with none of the test
/// process's own `DATABASE_URL`/`SHADOW_DATABASE_URL`, no colour, and killed after 60 s so
/// that a hang fails the test instead of stalling the suite. For the CLI's integration tests
/// (the binary is found beside the test executable).
pub fn keel(dir: &std::path::Path, url: &str) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin("keel"));
    c.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("SHADOW_DATABASE_URL")
        .env("NO_COLOR", "1")
        .args(["--database-url", url])
        .timeout(std::time::Duration::from_secs(60));
    c
}

/// A fresh, uniquely named database, dropped when this value is dropped.
pub struct TestDb {
    /// The backend.
    pub backend: Backend,
    /// URL of the fresh database.
    pub url: String,
    /// Database name (server backends) or file name (SQLite).
    pub name: String,
    dir: Option<tempfile::TempDir>,
}

fn pg_admin() -> String {
    std::env::var("KEEL_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}
fn mysql_admin() -> String {
    std::env::var("KEEL_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".into())
}

fn with_db(admin: &str, db: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let cut = base.rfind('/').unwrap();
    format!("{}/{db}{query}", &base[..cut])
}

impl TestDb {
    /// Creates a fresh database on `backend`.
    ///
    /// # Panics
    /// When the server is unreachable, with the command that starts it.
    pub async fn new(backend: Backend) -> TestDb {
        let suffix: u64 = rand::thread_rng().gen();
        let name = format!("keel_test_{:x}", suffix);
        match backend {
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&pg_admin()).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is not reachable at {} ({e}); start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", pg_admin())
                });
                sqlx::Executor::execute(&mut c, format!("CREATE DATABASE {name}").as_str())
                    .await
                    .unwrap();
                let _ = c.close().await;
                TestDb {
                    backend,
                    url: with_db(&pg_admin(), &name),
                    name,
                    dir: None,
                }
            }
            Backend::Mysql => {
                let mut c = sqlx::MySqlConnection::connect(&mysql_admin()).await.unwrap_or_else(|e| {
                    panic!("MariaDB is not reachable at {} ({e}); start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd", mysql_admin())
                });
                sqlx::Executor::execute(&mut c, format!("CREATE DATABASE {name}").as_str())
                    .await
                    .unwrap();
                let _ = c.close().await;
                TestDb {
                    backend,
                    url: with_db(&mysql_admin(), &name),
                    name,
                    dir: None,
                }
            }
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join(format!("{name}.db"));
                TestDb {
                    backend,
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    name,
                    dir: Some(dir),
                }
            }
        }
    }

    /// Runs `sql` (one or more statements) on the test database.
    pub async fn execute(&self, sql: &str) {
        match self.backend {
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            }
            Backend::Mysql => {
                let mut c = sqlx::MySqlConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            }
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            }
        }
    }

    /// The first column of the first row of `sql`, as i64 (`COUNT(*)` and the like).
    pub async fn scalar(&self, sql: &str) -> i64 {
        match self.backend {
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                let r = sqlx::query(sql).fetch_one(&mut c).await.unwrap();
                r.try_get::<i64, _>(0)
                    .or_else(|_| r.try_get::<i32, _>(0).map(i64::from))
                    .unwrap()
            }
            Backend::Mysql => {
                let mut c = sqlx::MySqlConnection::connect(&self.url).await.unwrap();
                let r = sqlx::query(sql).fetch_one(&mut c).await.unwrap();
                r.try_get::<i64, _>(0)
                    .or_else(|_| r.try_get::<u64, _>(0).map(|v| v as i64))
                    .or_else(|_| r.try_get::<u32, _>(0).map(i64::from))
                    .or_else(|_| r.try_get::<i32, _>(0).map(i64::from))
                    .unwrap()
            }
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                let r = sqlx::query(sql).fetch_one(&mut c).await.unwrap();
                r.try_get::<i64, _>(0).unwrap()
            }
        }
    }

    /// Whether a table named `table` exists.
    pub async fn has_table(&self, table: &str) -> bool {
        let sql = match self.backend {
            Backend::Postgres => format!("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = '{table}'"),
            Backend::Mysql => format!("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'"),
            Backend::Sqlite => format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"),
        };
        self.scalar(&sql).await > 0
    }

    /// Whether a column exists.
    pub async fn has_column(&self, table: &str, column: &str) -> bool {
        let sql = match self.backend {
            Backend::Postgres => format!("SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' AND column_name = '{column}'"),
            Backend::Mysql => format!("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}' AND COLUMN_NAME = '{column}'"),
            Backend::Sqlite => format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = '{column}'"),
        };
        self.scalar(&sql).await > 0
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, sql) = match self.backend {
            Backend::Sqlite => {
                drop(self.dir.take());
                return;
            }
            Backend::Postgres => (
                pg_admin(),
                format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ),
            Backend::Mysql => (
                mysql_admin(),
                format!("DROP DATABASE IF EXISTS {}", self.name),
            ),
        };
        let backend = self.backend;
        // Drop runs outside any async context we can borrow: use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                match backend {
                    Backend::Postgres => {
                        if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                            let _ = sqlx::Executor::execute(&mut c, sql.as_str()).await;
                        }
                    }
                    _ => {
                        if let Ok(mut c) = sqlx::MySqlConnection::connect(&admin).await {
                            let _ = sqlx::Executor::execute(&mut c, sql.as_str()).await;
                        }
                    }
                }
            })
        })
        .join();
    }
}

/// Runs `async fn $name(db: TestDb)` as three tests: `$name::postgres`, `$name::mysql`,
/// `$name::sqlite`, each on a fresh database.
#[macro_export]
macro_rules! db_test {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::TestDb::new($crate::Backend::Postgres).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                super::$name($crate::TestDb::new($crate::Backend::Mysql).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::TestDb::new($crate::Backend::Sqlite).await).await
            }
        }
    };
}
