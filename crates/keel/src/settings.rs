//! Settings: flag, then environment (`DATABASE_URL`), then `keel.toml`, then defaults
//! (DESIGN.md, "Commands").

use crate::Error;
use keel_core::directives::parse_duration;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The configuration file keel reads from the project directory.
pub const CONFIG_FILE: &str = "keel.toml";
/// The database `keel init` writes into a new keel.toml: SQLite, embedded. Only written, never
/// assumed: a command with no database URL configured stops with K1013.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://keel.db";
/// The longest ledger table name keel accepts: PostgreSQL truncates identifiers to 63 bytes
/// (`NAMEDATALEN - 1`), so a longer name would be created under another name and never found.
pub const MAX_LEDGER_NAME: usize = 63;
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
    /// The target database's URL as given. Never print it: use [`Settings::redacted_url`];
    /// change it with [`Settings::set_database_url`]; read it parsed with [`Settings::url`].
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
    /// keel.toml's `[database] disposable = true`: `keel reset` may empty the database named
    /// by keel.toml's own `database_url` (and no other: see [`Settings::disposable_url`]).
    pub disposable: bool,
    /// keel.toml's own `database_url` (whatever the environment says), the database its
    /// `disposable` mark was written for. Never print it: redact.
    pub disposable_url: Option<String>,
    /// The directory of the keel.toml that was read (`None`: there was none), "the project"
    /// for `keel reset`'s SQLite rule.
    pub config_dir: Option<PathBuf>,
    /// The project directory the settings were resolved against (where `keel.toml`, `.env`
    /// and `prisma.config.ts` are looked for).
    pub project: PathBuf,
    /// Where the database URL came from, for messages: `--database-url/DATABASE_URL`, the
    /// `.env` file's path, `keel.toml`, or `nowhere`.
    pub database_url_source: String,
    /// [`Settings::database_url`] parsed, on first use ([`Settings::url`]).
    pub(crate) parsed_url: std::sync::OnceLock<keel_driver::DatabaseUrl>,
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
        let dotenv = crate::dotenv::DotEnv::read(project)?;
        Settings::resolve_with(input, project, text.as_deref(), &dotenv)
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
        Settings::resolve_with(input, project, config, &crate::dotenv::DotEnv::default())
    }

    /// [`Settings::resolve_text`] with the `.env` values read: the database URLs come from the
    /// flag or environment, then `.env`, then keel.toml; a blank value given on purpose is kept
    /// (and refused with K1013 when used), never replaced by another source.
    ///
    /// # Errors
    /// As [`Settings::resolve_text`]; [`Error::Config`] (K4020) for a ledger table name that is
    /// not `[A-Za-z_][A-Za-z0-9_]*` of at most [`MAX_LEDGER_NAME`] bytes.
    pub fn resolve_with(
        input: SettingsInput,
        project: &Path,
        config: Option<&str>,
        dotenv: &crate::dotenv::DotEnv,
    ) -> Result<Settings, Error> {
        let path = project.join(CONFIG_FILE);
        let file = match config {
            Some(text) => toml::from_str::<ConfigFile>(text).map_err(|e| Error::Config {
                path: path.clone(),
                message: e.message().to_string(),
            })?,
            None => ConfigFile::default(),
        };
        // Prisma 7's prisma.config.ts may move the migrations (a string literal only; keel
        // does not run TypeScript and never guesses a computed path).
        let prisma_config = if input.migrations.is_none() && file.migrations.is_none() {
            match crate::prisma_config::migrations_path(project) {
                crate::prisma_config::MigrationsPath::Literal(p) => Some(project.join(p)),
                crate::prisma_config::MigrationsPath::NotLiteral { file } => {
                    return Err(Error::Config {
                        path: project.join(&file),
                        message: "`migrations.path` is computed by code, which keel does not run; pass --migrations DIR or set `migrations` in keel.toml".into(),
                    })
                }
                crate::prisma_config::MigrationsPath::Unset => None,
            }
        } else {
            None
        };
        let migrations_named =
            input.migrations.is_some() || file.migrations.is_some() || prisma_config.is_some();
        let migrations_dir = match input
            .migrations
            .or(file.migrations.map(|p| project.join(p)))
            .or(prisma_config)
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
        let ledger_table = input.ledger_table.or(file.ledger_table);
        if let Some(name) = &ledger_table {
            check_ledger_name(name).map_err(|message| Error::Config {
                path: path.clone(),
                message: format!("ledger_table: {message}"),
            })?;
        }
        let (database_url, database_url_source) = if let Some(u) = input.database_url {
            (u, "--database-url/DATABASE_URL".to_string())
        } else if let Some(u) = dotenv.get("DATABASE_URL") {
            let from = dotenv
                .source("DATABASE_URL")
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            (u.to_string(), from)
        } else if let Some(u) = &file.database_url {
            (u.clone(), CONFIG_FILE.to_string())
        } else {
            (String::new(), "nowhere".to_string())
        };
        let disposable = file.database.as_ref().is_some_and(|d| d.disposable);
        Ok(Settings {
            database_url,
            database_url_source,
            disposable_url: if disposable {
                file.database_url.clone()
            } else {
                None
            },
            config_dir: config.is_some().then(|| project.to_path_buf()),
            project: project.to_path_buf(),
            migrations_dir,
            migrations_named,
            ledger_table,
            lock_timeout,
            lock_attempts,
            statement_timeout,
            deploy_lock_timeout,
            shadow_database_url: input
                .shadow_database_url
                .filter(|u| !u.trim().is_empty())
                .or(dotenv.get("SHADOW_DATABASE_URL").map(str::to_string))
                .or(file.shadow_database_url),
            disposable,
            parsed_url: std::sync::OnceLock::new(),
        })
    }

    /// The target database's URL, parsed: once per value of [`Settings::database_url`] (set it
    /// with [`Settings::set_database_url`]), so that every command and module reads the same
    /// parse.
    ///
    /// # Errors
    /// [`Error::Driver`] with [`keel_driver::DriverError::InvalidUrl`] (K1013) when the URL is
    /// empty or does not parse; the message holds only its redaction.
    pub fn url(&self) -> Result<&keel_driver::DatabaseUrl, Error> {
        if let Some(u) = self.parsed_url.get() {
            return Ok(u);
        }
        let parsed = keel_driver::parse_url(&self.database_url)?;
        Ok(self.parsed_url.get_or_init(|| parsed))
    }

    /// Replaces the target database's URL (and forgets the parse of the old one).
    pub fn set_database_url(&mut self, url: impl Into<String>) {
        self.database_url = url.into();
        self.parsed_url = std::sync::OnceLock::new();
    }

    /// Reads the migrations directory.
    ///
    /// # Errors
    /// [`Error::Migrations`]: K4012 when the directory was named (flag or keel.toml) and does
    /// not exist, and every error of reading it.
    pub fn read_migrations(&self) -> Result<keel_core::migrations::MigrationsDir, Error> {
        if !self.migrations_named && !self.migrations_dir.exists() {
            // A monorepo root or the wrong directory: never "up to date" (issue #13, item 3).
            let project = self
                .migrations_dir
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            return Err(Error::NoMigrationsDir {
                looked: vec![
                    project.join("migrations"),
                    project.join("prisma").join("migrations"),
                ],
            });
        }
        self.read_migrations_allow_missing()
    }

    /// [`Settings::read_migrations`] where a default directory that does not exist reads as
    /// empty: for the commands that write the first migration (`baseline`).
    ///
    /// # Errors
    /// As [`Settings::read_migrations`], but no [`Error::NoMigrationsDir`].
    pub fn read_migrations_allow_missing(
        &self,
    ) -> Result<keel_core::migrations::MigrationsDir, Error> {
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

/// Checks a ledger table name: `[A-Za-z_][A-Za-z0-9_]*`, at most [`MAX_LEDGER_NAME`] bytes, no
/// schema qualifier. The name is always quoted in SQL too; refusing anything else up front
/// means no character of it can change a statement, and the server never truncates it.
fn check_ledger_name(name: &str) -> Result<(), String> {
    let shown: String = name
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.len() > MAX_LEDGER_NAME {
        return Err(format!(
            "`{shown}…` is {} bytes; PostgreSQL keeps only {MAX_LEDGER_NAME}, so the table would get another name",
            name.len()
        ));
    }
    if name.contains('.') {
        return Err(format!(
            "`{shown}` is schema-qualified; name the table alone and choose the schema with the URL's `?schema=`"
        ));
    }
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "`{shown}` is not a plain table name: use letters, digits and `_`, starting with a letter or `_`"
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_file_beats_default() {
        let t = tempfile::tempdir().unwrap();
        let s = Settings::resolve(SettingsInput::default(), t.path()).unwrap();
        assert_eq!(s.database_url, "", "no default database");
        assert_eq!(s.database_url_source, "nowhere");
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
    fn dotenv_comes_after_the_environment_and_before_keel_toml() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(
            t.path().join(CONFIG_FILE),
            "database_url = \"sqlite://toml.db\"\n",
        )
        .unwrap();
        std::fs::write(
            t.path().join(".env"),
            "DATABASE_URL=postgres://u@h/fromenv\n",
        )
        .unwrap();
        let s = Settings::resolve(SettingsInput::default(), t.path()).unwrap();
        assert_eq!(s.database_url, "postgres://u@h/fromenv");
        let s = Settings::resolve(
            SettingsInput {
                database_url: Some("postgres://u@h/flag".into()),
                ..Default::default()
            },
            t.path(),
        )
        .unwrap();
        assert_eq!(s.database_url, "postgres://u@h/flag");
        // A blank URL given on purpose stays blank (K1013 when used), never a fallback.
        let s = Settings::resolve(
            SettingsInput {
                database_url: Some("  ".into()),
                ..Default::default()
            },
            t.path(),
        )
        .unwrap();
        assert_eq!(s.database_url.trim(), "");
    }

    #[test]
    fn ledger_names_that_could_inject_or_truncate_are_k4020() {
        let t = tempfile::tempdir().unwrap();
        for bad in [
            "x\" (id INT); DROP TABLE victim; --",
            "x` (id INT); DROP TABLE victim; --",
            "public._prisma_migrations",
            "",
            "1abc",
            "a\u{0}b",
            &"l".repeat(64),
        ] {
            let e = Settings::resolve(
                SettingsInput {
                    ledger_table: Some(bad.to_string()),
                    ..Default::default()
                },
                t.path(),
            )
            .unwrap_err();
            assert_eq!(e.code(), "K4020", "{bad}");
        }
        for good in ["_keel_migrations", "Ledger2", &"l".repeat(63)] {
            Settings::resolve(
                SettingsInput {
                    ledger_table: Some(good.to_string()),
                    ..Default::default()
                },
                t.path(),
            )
            .unwrap();
        }
    }

    #[test]
    fn unknown_key_is_k4020() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(CONFIG_FILE), "databse_url = \"x\"\n").unwrap();
        let e = Settings::resolve(SettingsInput::default(), t.path()).unwrap_err();
        assert_eq!(e.code(), "K4020");
    }
}
