//! Settings: flag, then environment (`DATABASE_URL`), then `keel.toml`, then defaults
//! (DESIGN.md, "Commands").

use crate::Error;
use keel_core::directives::parse_duration;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The configuration file keel reads from the project directory.
pub const CONFIG_FILE: &str = "keel.toml";
/// The database used when nothing else is configured: SQLite, embedded.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://keel.db";
/// How long a migration step waits for a table lock before it gives up and is retried
/// (PostgreSQL `lock_timeout`, MySQL `lock_wait_timeout` / `innodb_lock_wait_timeout`, SQLite
/// `busy_timeout`), by default: the application's queries queue behind a waiting DDL step for
/// at most this long.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(2);
/// How many times a step that timed out waiting for a lock is tried, by default.
pub const DEFAULT_LOCK_ATTEMPTS: u32 = 5;
/// How long deploy waits for the deploy lock (another deploy running) by default.
pub const DEFAULT_DEPLOY_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings given by flags or environment variables; `None` falls through to `keel.toml`.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    /// `--database-url` / `DATABASE_URL`.
    pub database_url: Option<String>,
    /// `--migrations DIR`.
    pub migrations: Option<PathBuf>,
    /// `--ledger-table NAME`.
    pub ledger_table: Option<String>,
    /// `--lock-timeout DURATION` (e.g. `2s`): a step's wait for a table lock.
    pub lock_timeout: Option<String>,
    /// `--lock-attempts N`: tries of a step that timed out waiting for a lock.
    pub lock_attempts: Option<u32>,
    /// `--statement-timeout DURATION`: a step's longest run.
    pub statement_timeout: Option<String>,
    /// `--deploy-lock-timeout DURATION`: the wait for the deploy lock.
    pub deploy_lock_timeout: Option<String>,
    /// `--shadow-database-url` / `SHADOW_DATABASE_URL`.
    pub shadow_database_url: Option<String>,
}

/// The resolved settings every command runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The target database's URL. Never print it: use [`Settings::redacted_url`].
    pub database_url: String,
    /// The migrations directory.
    pub migrations_dir: PathBuf,
    /// Whether the directory was named (flag or keel.toml) rather than found by default: a
    /// named directory that does not exist is an error (K4012), a default one reads as empty.
    pub migrations_named: bool,
    /// The ledger table; `None` = decide (`_prisma_migrations` in a Prisma project, else
    /// `_keel_migrations`).
    pub ledger_table: Option<String>,
    /// How long one migration step waits for a table lock before it is retried (default
    /// [`DEFAULT_LOCK_TIMEOUT`]); a migration's `-- keel:lock-timeout=` overrides it.
    pub lock_timeout: Duration,
    /// How many times a step (or a transactional migration) that timed out waiting for a lock
    /// is tried before deploy gives up (default [`DEFAULT_LOCK_ATTEMPTS`], at least 1).
    pub lock_attempts: u32,
    /// The longest a step may run (`None` = the server's setting); a migration's
    /// `-- keel:statement-timeout=` overrides it.
    pub statement_timeout: Option<Duration>,
    /// How long to wait for the deploy lock while another deploy holds it (default
    /// [`DEFAULT_DEPLOY_LOCK_TIMEOUT`]).
    pub deploy_lock_timeout: Duration,
    /// A database keel may empty and use as the shadow database. Never print it: redact.
    pub shadow_database_url: Option<String>,
    /// keel.toml's `[database] disposable = true`: `keel reset` may empty the target.
    pub disposable: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseSection {
    #[serde(default)]
    disposable: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    database: Option<DatabaseSection>,
    database_url: Option<String>,
    migrations: Option<PathBuf>,
    ledger_table: Option<String>,
    lock_timeout: Option<String>,
    lock_attempts: Option<u32>,
    statement_timeout: Option<String>,
    deploy_lock_timeout: Option<String>,
    shadow_database_url: Option<String>,
}

impl Settings {
    /// Resolves `input` against `project/keel.toml` and the defaults. Paths in `keel.toml` are
    /// relative to `project`.
    ///
    /// # Errors
    /// [`Error::Config`] (K4020) when `keel.toml` cannot be read or holds an unknown key or a
    /// bad duration.
    pub fn resolve(input: SettingsInput, project: &Path) -> Result<Settings, Error> {
        let path = project.join(CONFIG_FILE);
        let text = if path.is_file() {
            Some(std::fs::read_to_string(&path).map_err(|e| Error::Config {
                path: path.clone(),
                message: e.to_string(),
            })?)
        } else {
            None
        };
        Settings::resolve_text(input, project, text.as_deref())
    }

    /// [`Settings::resolve`] with the text of `keel.toml` given (`None`: no file).
    ///
    /// # Errors
    /// [`Error::Config`] (K4020) for an unknown key, a bad value or a bad duration.
    pub fn resolve_text(
        input: SettingsInput,
        project: &Path,
        config: Option<&str>,
    ) -> Result<Settings, Error> {
        let path = project.join(CONFIG_FILE);
        let file = match config {
            Some(text) => toml::from_str::<ConfigFile>(text).map_err(|e| Error::Config {
                path: path.clone(),
                message: e.message().to_string(),
            })?,
            None => ConfigFile::default(),
        };
        let migrations_named = input.migrations.is_some() || file.migrations.is_some();
        let migrations_dir = match input
            .migrations
            .or(file.migrations.map(|p| project.join(p)))
        {
            Some(p) => p,
            None => keel_core::migrations::find_dir(project),
        };
        let duration = |key: &str, v: Option<String>| -> Result<Option<Duration>, Error> {
            v.map(|v| {
                parse_duration(&v).map_err(|message| Error::Config {
                    path: path.clone(),
                    message: format!("{key}: {message}"),
                })
            })
            .transpose()
        };
        let lock_timeout = duration("lock_timeout", input.lock_timeout.or(file.lock_timeout))?
            .unwrap_or(DEFAULT_LOCK_TIMEOUT);
        let statement_timeout = duration(
            "statement_timeout",
            input.statement_timeout.or(file.statement_timeout),
        )?;
        let deploy_lock_timeout = duration(
            "deploy_lock_timeout",
            input.deploy_lock_timeout.or(file.deploy_lock_timeout),
        )?
        .unwrap_or(DEFAULT_DEPLOY_LOCK_TIMEOUT);
        let lock_attempts = input
            .lock_attempts
            .or(file.lock_attempts)
            .unwrap_or(DEFAULT_LOCK_ATTEMPTS);
        if lock_attempts == 0 {
            return Err(Error::Config {
                path,
                message: "lock_attempts: must be at least 1".into(),
            });
        }
        Ok(Settings {
            database_url: input
                .database_url
                .filter(|u| !u.trim().is_empty())
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            migrations_dir,
            migrations_named,
            ledger_table: input.ledger_table.or(file.ledger_table),
            lock_timeout,
            lock_attempts,
            statement_timeout,
            deploy_lock_timeout,
            shadow_database_url: input
                .shadow_database_url
                .filter(|u| !u.trim().is_empty())
                .or(file.shadow_database_url),
            disposable: file.database.is_some_and(|d| d.disposable),
        })
    }

    /// Reads the migrations directory.
    ///
    /// # Errors
    /// [`Error::Migrations`]: K4012 when the directory was named (flag or keel.toml) and does
    /// not exist, and every error of reading it.
    pub fn read_migrations(&self) -> Result<keel_core::migrations::MigrationsDir, Error> {
        if self.migrations_named && !self.migrations_dir.exists() {
            return Err(Error::Migrations(
                keel_core::migrations::MigrationsError::Io {
                    path: self.migrations_dir.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "the migrations directory does not exist",
                    ),
                },
            ));
        }
        Ok(keel_core::migrations::read_dir(&self.migrations_dir)?)
    }

    /// The database URL with its password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        keel_core::redact::redact_url(&self.database_url)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_file_beats_default() {
        let t = tempfile::tempdir().unwrap();
        let s = Settings::resolve(SettingsInput::default(), t.path()).unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.migrations_dir, t.path().join("migrations"));
        std::fs::write(
            t.path().join(CONFIG_FILE),
            "database_url = \"sqlite://app.db\"\nmigrations = \"db/migrations\"\nlock_timeout = \"3s\"\n",
        )
        .unwrap();
        let s = Settings::resolve(SettingsInput::default(), t.path()).unwrap();
        assert_eq!(s.database_url, "sqlite://app.db");
        assert_eq!(s.migrations_dir, t.path().join("db/migrations"));
        assert_eq!(s.lock_timeout, Duration::from_secs(3));
        let s = Settings::resolve(
            SettingsInput {
                database_url: Some("postgres://x@h/db".into()),
                ..Default::default()
            },
            t.path(),
        )
        .unwrap();
        assert_eq!(s.database_url, "postgres://x@h/db");
    }

    #[test]
    fn unknown_key_is_k4020() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(CONFIG_FILE), "databse_url = \"x\"\n").unwrap();
        let e = Settings::resolve(SettingsInput::default(), t.path()).unwrap_err();
        assert_eq!(e.code(), "K4020");
    }
}
