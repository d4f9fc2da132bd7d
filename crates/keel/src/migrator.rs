//! The embedding API: an application migrates its database at start-up with the same engine,
//! lock, ledger and errors as `keel deploy`.
//!
//! ```no_run
//! # async fn start() -> Result<(), keel::Error> {
//! // Migrations compiled into the binary (the folder as `keel new` writes it):
//! let migrator = keel::embed_migrations!("$CARGO_MANIFEST_DIR/examples/migrations")?;
//! let report = migrator.deploy("postgres://app@db.internal/app").await?;
//! for name in &report.applied {
//!     println!("applied {name}");
//! }
//! # Ok(()) }
//! ```

use crate::deploy::deploy_project;
use crate::project::Project;
use crate::status::status_project;
use crate::{DeployOptions, DeployReport, Error, Event, Settings, SettingsInput, StatusReport};
use keel_core::migrations::{self, Entry, MigrationsDir};
use keel_driver::PoolSource;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Migrations, read once, and the settings to deploy them with. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Migrator {
    dir: MigrationsDir,
    settings: Settings,
    options: DeployOptions,
}

impl Migrator {
    fn new(dir: MigrationsDir) -> Migrator {
        let mut settings = Settings::resolve_text(
            SettingsInput {
                migrations: Some(dir.root.clone()),
                ..Default::default()
            },
            Path::new("."),
            None,
        )
        .unwrap_or_else(|_| unreachable_settings(&dir.root));
        settings.migrations_dir = dir.root.clone();
        Migrator {
            dir,
            settings,
            options: DeployOptions::default(),
        }
    }

    /// Reads the migrations directory at `path` (Prisma folders or flat files, as
    /// `keel deploy` does).
    ///
    /// # Errors
    /// [`Error::Migrations`]: the directory does not exist or a file cannot be read (K4012),
    /// a bad name, a duplicate, a bad directive (K4011–K4016, K3015).
    pub fn from_dir(path: impl AsRef<Path>) -> Result<Migrator, Error> {
        let path = path.as_ref();
        if !path.is_dir() {
            return Err(Error::Migrations(migrations::MigrationsError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the migrations directory does not exist",
                ),
            }));
        }
        Ok(Migrator::new(migrations::read_dir(path)?))
    }

    /// Migrations embedded in the binary with `include_dir!` (see [`embed_migrations!`]):
    /// the same layouts, rules and checksums as a directory on disk.
    ///
    /// # Errors
    /// As [`Migrator::from_dir`].
    pub fn from_embedded(dir: &'static include_dir::Dir<'static>) -> Result<Migrator, Error> {
        let mut entries = Vec::new();
        for e in dir.entries() {
            let name = e
                .path()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match e {
                include_dir::DirEntry::Dir(d) => entries.push(Entry::Folder {
                    up: d
                        .get_file(d.path().join("migration.sql"))
                        .map(|f| f.contents().to_vec()),
                    down: d.get_file(d.path().join("down.sql")).is_some(),
                    name,
                }),
                include_dir::DirEntry::File(f) => entries.push(Entry::File {
                    name,
                    bytes: Some(f.contents().to_vec()),
                }),
            }
        }
        let root = PathBuf::from("<embedded>").join(dir.path());
        Ok(Migrator::new(migrations::from_entries(&root, entries)?))
    }

    /// The ledger table (default: `_prisma_migrations` when the migrations hold Prisma's
    /// `migration_lock.toml` or the database has that table, else `_keel_migrations`).
    #[must_use]
    pub fn ledger_table(mut self, table: impl Into<String>) -> Migrator {
        self.settings.ledger_table = Some(table.into());
        self
    }

    /// How long a step waits for a table lock before it is retried (default 2 s).
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Duration) -> Migrator {
        self.settings.lock_timeout = timeout;
        self
    }

    /// How many times a step that timed out waiting for a lock is tried (default 5, at
    /// least 1).
    #[must_use]
    pub fn lock_attempts(mut self, attempts: u32) -> Migrator {
        self.settings.lock_attempts = attempts.max(1);
        self
    }

    /// The longest a step may run (default: the server's setting).
    #[must_use]
    pub fn statement_timeout(mut self, timeout: Duration) -> Migrator {
        self.settings.statement_timeout = Some(timeout);
        self
    }

    /// How long to wait for the deploy lock while another deploy (another instance of the
    /// application starting, or `keel deploy`) holds it (default 60 s).
    #[must_use]
    pub fn deploy_lock_timeout(mut self, timeout: Duration) -> Migrator {
        self.settings.deploy_lock_timeout = timeout;
        self
    }

    /// A database keel may empty and use as the shadow database, for the data-loss check of
    /// migrations that may drop data (default: one keel creates on the target's server).
    #[must_use]
    pub fn shadow_database_url(mut self, url: impl Into<String>) -> Migrator {
        self.settings.shadow_database_url = Some(url.into());
        self
    }

    /// The deploy options (`allow_data_loss`, `to`, …); default: none.
    #[must_use]
    pub fn options(mut self, options: DeployOptions) -> Migrator {
        self.options = options;
        self
    }

    /// The migrations, in apply order.
    pub fn migrations(&self) -> &[keel_core::migrations::Migration] {
        &self.dir.migrations
    }

    /// Applies every pending migration to the database at `url`, as `keel deploy` does.
    ///
    /// # Errors
    /// Every error of [`crate::deploy`]: K1001/K1003 connection, K1002 deploy lock, K3009
    /// failed migrations, K4001–K4003 modified/missing/out of order, K3005 tables without a
    /// ledger, K4070 data loss, K3018 a migration failed, K4080 lock waits gave up.
    pub async fn deploy(&self, url: &str) -> Result<DeployReport, Error> {
        self.deploy_reporting(url, &mut |_| {}).await
    }

    /// [`Migrator::deploy`], reporting progress as [`Event`]s.
    ///
    /// # Errors
    /// As [`Migrator::deploy`].
    pub async fn deploy_reporting(
        &self,
        url: &str,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<DeployReport, Error> {
        let mut settings = self.settings.clone();
        settings.set_database_url(url);
        let driver = keel_driver::connect(url).await?;
        let project = Project::with(self.dir.clone(), driver, &settings).await?;
        deploy_project(project, &settings, &self.options, on_event).await
    }

    /// [`Migrator::deploy`] on a connection taken from the application's pool
    /// (`sqlx::PgPool`, `MySqlPool`, `SqlitePool`). The connection is detached from the pool
    /// and closed afterwards. The pool's options carry no password for keel to reuse, so a
    /// data-loss check that needs a shadow database uses [`Migrator::shadow_database_url`]
    /// or creates one on the server with the pool's user and no password.
    ///
    /// # Errors
    /// As [`Migrator::deploy`].
    pub async fn deploy_with<P: PoolSource>(&self, pool: &P) -> Result<DeployReport, Error> {
        let driver = pool.take_driver().await?;
        let mut settings = self.settings.clone();
        settings.set_database_url(driver.redacted_url());
        let project = Project::with(self.dir.clone(), driver, &settings).await?;
        deploy_project(project, &settings, &self.options, &mut |_| {}).await
    }

    /// Every migration's state in the database at `url`, as `keel status` reports it.
    ///
    /// # Errors
    /// Connection and ledger errors.
    pub async fn status(&self, url: &str) -> Result<StatusReport, Error> {
        let mut settings = self.settings.clone();
        settings.set_database_url(url);
        let driver = keel_driver::connect(url).await?;
        let project = Project::with(self.dir.clone(), driver, &settings).await?;
        status_project(project).await
    }
}

/// Settings without a file cannot fail to resolve; this is the same value spelled out.
fn unreachable_settings(root: &Path) -> Settings {
    Settings {
        database_url: String::new(),
        database_url_source: "the embedding application".into(),
        disposable_url: None,
        config_dir: None,
        project: root.to_path_buf(),
        migrations_dir: root.to_path_buf(),
        migrations_named: true,
        ledger_table: None,
        lock_timeout: crate::settings::DEFAULT_LOCK_TIMEOUT,
        lock_attempts: crate::settings::DEFAULT_LOCK_ATTEMPTS,
        statement_timeout: None,
        deploy_lock_timeout: crate::settings::DEFAULT_DEPLOY_LOCK_TIMEOUT,
        shadow_database_url: None,
        disposable: false,
        parsed_url: std::sync::OnceLock::new(),
    }
}

/// A [`Migrator`] over migrations compiled into the binary: `embed_migrations!(PATH)` with
/// `PATH` an `include_dir!` path literal such as `"$CARGO_MANIFEST_DIR/migrations"`.
/// Evaluates to `Result<Migrator, keel::Error>`. Needs no dependency but `keel`.
#[macro_export]
macro_rules! embed_migrations {
    ($path:tt) => {{
        use $crate::include_dir;
        static KEEL_MIGRATIONS: $crate::include_dir::Dir<'static> =
            $crate::include_dir::include_dir!($path);
        $crate::Migrator::from_embedded(&KEEL_MIGRATIONS)
    }};
}
