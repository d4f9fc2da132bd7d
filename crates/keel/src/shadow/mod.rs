//! The shadow database: a scratch database where keel replays migrations to learn the schema
//! they produce (DESIGN.md, "shadow database"; Prisma's shadow database, P3014 when none can be
//! had).
//!
//! Strategies, in order: the URL the user gave (`--shadow-database-url`, refused when it is
//! the target itself, emptied before use); a database keel creates on the target's server
//! and always drops (`keel_shadow_<random>`); on PostgreSQL without the right to create
//! databases, a private throwaway cluster from the local PostgreSQL binaries (`initdb` in a
//! temporary directory, unix socket only, removed after); SQLite: an in-memory database.

use crate::error::Error;
pub(crate) mod cluster;

use crate::run::{Executor, Mode, RunError, Scratch, Script};
use crate::settings::Settings;
use keel_core::migrations::Migration;
use keel_core::schema::Schema;
use keel_core::splitter;
use keel_core::Dialect;
use keel_driver::{parse_url, Driver, DriverError};
use std::sync::Mutex;

/// Shadow databases created and not yet dropped: (admin URL, name). Read by
/// [`drop_all_created`] when the process is interrupted (Ctrl-C).
static CREATED: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Drops every shadow database this process created and has not dropped yet. The CLI calls it
/// on Ctrl-C, so that an interrupted `keel diff` leaves nothing behind.
pub async fn drop_all_created() {
    let pending: Vec<(String, String)> = match CREATED.lock() {
        Ok(mut v) => std::mem::take(&mut *v),
        Err(_) => return,
    };
    for (admin, name) in pending {
        drop_on_target(&admin, &name).await;
    }
    crate::shadow::cluster::stop_all_started();
}

/// The target's current schema when the shadow's differs (or is missing), else `None`. Any
/// failure to learn it (no target, unreachable within 5 s) is `None`: the shadow keeps its
/// default, as before.
async fn target_schema_if_other(settings: &Settings, shadow: &mut dyn Driver) -> Option<String> {
    let reach = async {
        let mut target = keel_driver::connect_to(settings.url().ok()?).await.ok()?;
        let current = target.current_schema().await.ok().flatten();
        target.close().await;
        current
    };
    let target = tokio::time::timeout(std::time::Duration::from_secs(5), reach)
        .await
        .ok()
        .flatten()?;
    let own = shadow.current_schema().await.ok().flatten();
    (own.as_deref() != Some(target.as_str())).then_some(target)
}

/// An open shadow database. Call [`Shadow::close`] on every path: it drops what keel created.
pub struct Shadow {
    /// Connection to the shadow database.
    pub driver: Box<dyn Driver>,
    /// How it was obtained, for messages (`created database keel_shadow_1a2b`, …).
    pub strategy: String,
    cleanup: Option<(String, String)>,
    cluster: Option<crate::shadow::cluster::Cluster>,
    /// The temporary schema inside the target's open transaction, when that is the strategy.
    temp_schema: Option<String>,
}

impl Shadow {
    /// Opens a shadow database for `dialect`, trying each strategy in turn.
    ///
    /// # Errors
    /// [`Error::ShadowUnavailable`] (K3014) listing every strategy tried and why it failed;
    /// [`Error::ShadowIsTarget`] when the given shadow URL is the target database.
    pub async fn open(settings: &Settings, dialect: Dialect) -> Result<Shadow, Error> {
        Shadow::open_for(settings, dialect, Err("not requested".into())).await
    }

    /// As [`Shadow::open`], with one more PostgreSQL fallback when `temp_schema` is `Ok`: a
    /// temporary schema created inside a transaction on the target and rolled back at
    /// [`Shadow::close`]. `temp_schema` says whether the migrations allow it (`Err` with why
    /// not: see [`temp_schema_allowed`]).
    ///
    /// # Errors
    /// As [`Shadow::open`].
    pub async fn open_for(
        settings: &Settings,
        dialect: Dialect,
        temp_schema: Result<(), String>,
    ) -> Result<Shadow, Error> {
        // Prisma's `migrations.initShadowDb` (prisma.config.ts) runs before any history: it
        // creates the external tables the migrations refer to.
        let init = init_shadow_db(settings)?;
        let temp_schema = match &init {
            Some(init) => temp_schema.and_then(|()| temp_schema_allowed(&[init])),
            None => temp_schema,
        };
        let mut shadow = Shadow::open_any(settings, dialect, temp_schema).await?;
        // The target's `?schema=NAME`: the history replays into a schema of the same name, as
        // Prisma's shadow database does, so that qualified names and introspection match.
        // Without `?schema=`, the target's current schema when it is not the shadow's (the
        // role's or the database's search_path names `app`): unqualified names then land in a
        // schema of the same name in both.
        let schema = match settings.url().ok().and_then(|u| u.schema()) {
            Some(s) => Some(s),
            None if dialect == Dialect::Postgres && shadow.temp_schema.is_none() => {
                target_schema_if_other(settings, shadow.driver.as_mut()).await
            }
            None => None,
        };
        if let (Some(schema), None) = (schema, &shadow.temp_schema) {
            if let Err(e) = shadow.driver.use_schema(&schema, true).await {
                shadow.close().await;
                return Err(e.into());
            }
        }
        if let Some(init) = init {
            if let Err(e) = shadow.replay(&[&init]).await {
                shadow.close().await;
                return Err(e);
            }
        }
        Ok(shadow)
    }

    async fn open_any(
        settings: &Settings,
        dialect: Dialect,
        temp_schema: Result<(), String>,
    ) -> Result<Shadow, Error> {
        let mut tried: Vec<String> = Vec::new();
        if let Some(url) = &settings.shadow_database_url {
            let parsed = parse_url(url)?;
            let target = settings.url()?;
            if parsed.identity() == target.identity() && parsed.dialect() != Dialect::Sqlite
                || (parsed.dialect() == Dialect::Sqlite
                    && parsed.identity() == target.identity()
                    && parsed.identity() != ":memory:")
            {
                return Err(Error::ShadowIsTarget {
                    url: parsed.redacted(),
                });
            }
            match keel_driver::connect(url).await {
                Ok(mut d) => {
                    d.reset().await?;
                    return Ok(Shadow {
                        driver: d,
                        strategy: format!("the given shadow database {}", parsed.redacted()),
                        cleanup: None,
                        cluster: None,
                        temp_schema: None,
                    });
                }
                Err(e) => tried.push(format!("--shadow-database-url {}: {e}", parsed.redacted())),
            }
        }
        if dialect == Dialect::Sqlite {
            let d = keel_driver::connect("sqlite::memory:").await?;
            return Ok(Shadow {
                driver: d,
                strategy: "an in-memory SQLite database".into(),
                cleanup: None,
                cluster: None,
                temp_schema: None,
            });
        }
        let target = settings.url()?;
        let name = shadow_name();
        // Registered before CREATE DATABASE is sent: a signal while it runs still drops it
        // (DROP DATABASE IF EXISTS).
        if let Ok(mut v) = CREATED.lock() {
            v.push((settings.database_url.clone(), name.clone()));
        }
        match create_on_target(&settings.database_url, &name).await {
            Ok(()) => {
                let url = target.with_database(&name).unwrap_or_default();
                match keel_driver::connect(&url).await {
                    Ok(d) => {
                        return Ok(Shadow {
                            driver: d,
                            strategy: format!(
                                "database {name}, created for this run and dropped after"
                            ),
                            cleanup: Some((settings.database_url.clone(), name)),
                            cluster: None,
                            temp_schema: None,
                        })
                    }
                    Err(e) => {
                        drop_on_target(&settings.database_url, &name).await;
                        if let Ok(mut v) = CREATED.lock() {
                            v.retain(|(_, n)| *n != name);
                        }
                        tried.push(format!(
                            "CREATE DATABASE {name}: created but cannot connect: {e}"
                        ));
                    }
                }
            }
            Err(e) => {
                if let Ok(mut v) = CREATED.lock() {
                    v.retain(|(_, n)| *n != name);
                }
                tried.push(format!(
                    "CREATE DATABASE {name} on {}: {e}",
                    target.redacted()
                ))
            }
        }
        if dialect == Dialect::Postgres {
            match crate::shadow::cluster::Cluster::start().await {
                Ok(cluster) => match keel_driver::connect(&cluster.url()).await {
                    Ok(d) => {
                        return Ok(Shadow {
                            driver: d,
                            strategy: format!(
                                "a private PostgreSQL cluster ({}), removed after",
                                cluster.describe()
                            ),
                            cleanup: None,
                            cluster: Some(cluster),
                            temp_schema: None,
                        })
                    }
                    Err(e) => {
                        tried.push(format!("private cluster: started but cannot connect: {e}"));
                        cluster.stop();
                    }
                },
                Err(e) => tried.push(format!(
                    "private cluster from the local PostgreSQL binaries: {e}"
                )),
            }
            match temp_schema {
                Err(why) => tried.push(format!("temporary schema in a rolled-back transaction: {why}")),
                Ok(()) => match open_temp_schema(&settings.database_url).await {
                    Ok((driver, schema)) => {
                        return Ok(Shadow {
                            driver,
                            strategy: format!(
                                "temporary schema {schema} inside a transaction on the target, rolled back after"
                            ),
                            cleanup: None,
                            cluster: None,
                            temp_schema: Some(schema),
                        })
                    }
                    Err(e) => tried.push(format!("temporary schema in a rolled-back transaction: {e}")),
                },
            }
        }
        Err(Error::ShadowUnavailable { tried })
    }

    /// Closes the connection and drops the database keel created, if any.
    pub async fn close(mut self) {
        if self.temp_schema.is_some() {
            // Everything the replay did goes with the transaction.
            let _ = self.driver.execute("ROLLBACK").await;
        }
        self.driver.close().await;
        if let Some(c) = self.cluster {
            c.stop();
        }
        if let Some((admin, name)) = self.cleanup {
            drop_on_target(&admin, &name).await;
            if let Ok(mut v) = CREATED.lock() {
                v.retain(|(_, n)| *n != name);
            }
        }
    }
}

/// Opens a transaction on the target with a fresh schema first (and only) in `search_path`.
async fn open_temp_schema(url: &str) -> Result<(Box<dyn Driver>, String), DriverError> {
    let name = format!(
        "keel_shadow_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    let mut d = keel_driver::connect(url).await?;
    let setup = async {
        d.execute("BEGIN").await?;
        // Never queue behind the application's locks: fail fast instead.
        d.execute("SET LOCAL lock_timeout = '2s'").await?;
        d.execute(&format!("CREATE SCHEMA \"{name}\"")).await?;
        d.execute(&format!("SET LOCAL search_path TO \"{name}\""))
            .await
    }
    .await;
    match setup {
        Ok(()) => Ok((d, name)),
        Err(e) => {
            let _ = d.execute("ROLLBACK").await;
            d.close().await;
            Err(e)
        }
    }
}

impl Shadow {
    /// Replays `migrations` into this shadow as deploy would run them.
    ///
    /// # Errors
    /// [`Error::ReplayFailed`] (K3006).
    pub async fn replay(&mut self, migrations: &[&Migration]) -> Result<(), Error> {
        replay_with(self.driver.as_mut(), migrations, self.temp_schema.is_some()).await
    }

    /// Replays `prefix`, then each of `migrations` in turn, and reads the schema before and
    /// after each migration that `wanted` selects: one `(before, after)` pair per selected
    /// migration, in order (the others are only replayed). With `empty`, the tables are
    /// emptied after the prefix, so that the states show what the migrations do to the schema
    /// apart from the rows the history inserted (a seed row must not make a later statement
    /// fail here). The one "replay a prefix, then read the states around each migration" loop
    /// of rollback and lint.
    ///
    /// # Errors
    /// [`Error::ReplayFailed`] (K3006), driver errors.
    pub async fn states_around(
        &mut self,
        prefix: &[&Migration],
        migrations: &[&Migration],
        empty: bool,
        wanted: &(dyn Fn(&Migration) -> bool + Sync),
    ) -> Result<Vec<(Schema, Schema)>, Error> {
        self.replay(prefix).await?;
        let mut current = None;
        if empty {
            let first = self.introspect().await?;
            self.empty_tables(&first).await?;
            current = Some(first);
        }
        let mut out = Vec::new();
        for m in migrations {
            if !wanted(m) {
                self.replay(&[m]).await?;
                current = None;
                continue;
            }
            let before = match current.take() {
                Some(s) => s,
                None => self.introspect().await?,
            };
            self.replay(&[m]).await?;
            let after = self.introspect().await?;
            current = Some(after.clone());
            out.push((before, after));
        }
        Ok(out)
    }

    /// Runs one step in this shadow, outside any transaction keel opens (as a step-by-step
    /// deploy would; `CONCURRENTLY` removed).
    ///
    /// # Errors
    /// The server's error.
    pub async fn run_step(&mut self, sql: &str) -> Result<(), DriverError> {
        self.driver
            .execute(&crate::run::strip_concurrently(sql))
            .await
    }

    /// Deletes every row of the tables of `schema` (the schema this shadow holds), so that the
    /// steps run next meet no data: what they do to the schema is then measured apart from
    /// the rows earlier migrations inserted.
    ///
    /// # Errors
    /// The server's error.
    pub async fn empty_tables(
        &mut self,
        schema: &keel_core::schema::Schema,
    ) -> Result<(), DriverError> {
        let d = self.driver.dialect();
        let names: Vec<String> = schema
            .tables
            .iter()
            .map(|t| match &t.namespace {
                Some(ns) => format!(
                    "{}.{}",
                    keel_driver::quote_ident(d, ns),
                    keel_driver::quote_ident(d, &t.name)
                ),
                None => keel_driver::quote_ident(d, &t.name),
            })
            .collect();
        if names.is_empty() {
            return Ok(());
        }
        match d {
            Dialect::Postgres => {
                self.driver
                    .execute(&format!("TRUNCATE {} CASCADE", names.join(", ")))
                    .await
            }
            Dialect::Mysql | Dialect::Sqlite => {
                let (off, on) = if d == Dialect::Mysql {
                    ("SET FOREIGN_KEY_CHECKS=0", "SET FOREIGN_KEY_CHECKS=1")
                } else {
                    ("PRAGMA foreign_keys=OFF", "PRAGMA foreign_keys=ON")
                };
                self.driver.execute(off).await?;
                for n in &names {
                    self.driver.execute(&format!("DELETE FROM {n}")).await?;
                }
                self.driver.execute(on).await
            }
        }
    }

    /// Reads the schema the replay produced.
    ///
    /// # Errors
    /// Driver errors.
    pub async fn introspect(&mut self) -> Result<keel_core::schema::Schema, Error> {
        match &self.temp_schema {
            Some(name) => {
                // Point search_path back at the shadow schema and read only that schema (the
                // target's own schemas are visible from this session too).
                self.driver
                    .execute(&format!("SET LOCAL search_path TO \"{name}\""))
                    .await?;
                Ok(self.driver.introspect().await?.current_namespace_only())
            }
            None => {
                if self.driver.dialect() == Dialect::Postgres {
                    // A script may change session settings (pg_dump output empties
                    // search_path); introspection reads the schema as a fresh session sees it.
                    self.driver.execute("RESET ALL").await?;
                    // …with the target's `?schema=` as its search_path.
                    self.driver.restore_search_path().await?;
                }
                Ok(self.driver.introspect().await?)
            }
        }
    }
}

/// Whether `migrations` may be replayed in a temporary schema inside a transaction on the
/// target: none may manage its own transaction, hold a statement that cannot run in one
/// (other than CONCURRENTLY, which replay strips), or name a schema or `search_path` (it could
/// reach the target's own objects).
///
/// # Errors
/// Why not, naming the migration and line.
pub fn temp_schema_allowed(migrations: &[&Migration]) -> Result<(), String> {
    for m in migrations {
        for s in splitter::split(&m.script, Dialect::Postgres) {
            let sql = s.sql(&m.script);
            let kind = splitter::classify(sql, Dialect::Postgres);
            let lower = sql.to_ascii_lowercase();
            if kind.transaction_control {
                return Err(format!(
                    "migration `{}` manages its own transaction (line {})",
                    m.name, s.line
                ));
            }
            if kind.non_transactional.is_some() && !lower.contains("concurrently") {
                return Err(format!(
                    "migration `{}` holds a statement that cannot run in a transaction (line {})",
                    m.name, s.line
                ));
            }
            if lower.contains("public.")
                || lower.contains("\"public\".")
                || lower.contains("search_path")
                || lower.contains("create schema")
            {
                return Err(format!(
                    "migration `{}` names a schema (line {})",
                    m.name, s.line
                ));
            }
        }
    }
    Ok(())
}

async fn create_on_target(url: &str, name: &str) -> Result<(), DriverError> {
    let mut d = keel_driver::connect(url).await?;
    remove_leftovers(d.as_mut()).await;
    let r = d.create_database(name).await;
    d.close().await;
    r
}

/// How old a shadow database must be before keel takes it for a leftover: a run that has just
/// created its shadow is not connected to it yet.
const LEFTOVER_AGE_SECS: u64 = 120;

/// Notes for the user about what keel cleaned up (leftovers of earlier runs that were killed),
/// taken by [`take_notices`].
static NOTICES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// What keel removed this run that earlier runs left behind (a `keel_shadow_…` database or a
/// private cluster whose process died), to tell the user; empties the list.
pub fn take_notices() -> Vec<String> {
    NOTICES
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default()
}

pub(crate) fn notice(text: String) {
    if let Ok(mut v) = NOTICES.lock() {
        v.push(text);
    }
}

/// A fresh shadow database name: `keel_shadow_<creation time, hex seconds>_<random>`, so that
/// a later run can tell a leftover's age.
fn shadow_name() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "keel_shadow_{secs:x}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Drops the `keel_shadow_<hex time>_<random>` databases of earlier runs that were killed
/// (SIGKILL, a lost machine): no session is connected to them and they are older than
/// [`LEFTOVER_AGE_SECS`]. Best effort; each one dropped becomes a [`take_notices`] note.
async fn remove_leftovers(d: &mut dyn Driver) {
    let sql = match d.dialect() {
        Dialect::Postgres => "SELECT d.datname::text FROM pg_database d WHERE d.datname LIKE 'keel\\_shadow\\_%' \
             AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
        Dialect::Mysql => "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'keel\\_shadow\\_%' \
             AND SCHEMA_NAME NOT IN (SELECT DB FROM information_schema.PROCESSLIST WHERE DB IS NOT NULL)",
        Dialect::Sqlite => return,
    };
    let Ok(rows) = d.query_text(sql).await else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for name in rows
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
    {
        let Some(created) = name
            .strip_prefix("keel_shadow_")
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(t, _)| u64::from_str_radix(t, 16).ok())
        else {
            continue;
        };
        if now.saturating_sub(created) < LEFTOVER_AGE_SECS {
            continue;
        }
        if d.drop_database(&name).await.is_ok() {
            notice(format!(
                "removed shadow database {name}, left behind by an earlier keel run that did not finish"
            ));
        }
    }
}

async fn drop_on_target(url: &str, name: &str) {
    if let Ok(mut d) = keel_driver::connect(url).await {
        let _ = d.drop_database(name).await;
        d.close().await;
    }
}

/// Replays `migrations` into `shadow` as deploy would run them (without a ledger).
///
/// # Errors
/// [`Error::ReplayFailed`] (K3006) naming the migration, step and the server's error.
pub async fn replay(driver: &mut dyn Driver, migrations: &[&Migration]) -> Result<(), Error> {
    replay_with(driver, migrations, false).await
}

/// `prisma.config.ts`'s `migrations.initShadowDb`, as a migration named `initShadowDb`.
fn init_shadow_db(settings: &Settings) -> Result<Option<Migration>, Error> {
    let computed = |file: String| {
        Error::Config {
        path: settings.project.join(file),
        message: "`migrations.initShadowDb` is computed by code, which keel does not run; write it as a string literal".into(),
    }
    };
    let Some(sql) = crate::prisma_config::init_shadow_db(&settings.project).map_err(computed)?
    else {
        return Ok(None);
    };
    let path = crate::prisma_config::file(&settings.project).unwrap_or_default();
    Ok(Some(Migration::from_bytes(
        "initShadowDb",
        path,
        None,
        sql.into_bytes(),
    )?))
}

/// Replays `migrations` through the executor, each as deploy would run it, `CONCURRENTLY`
/// removed and nothing recorded; with `in_transaction`, inside the caller's open transaction,
/// each behind a savepoint, never ending that transaction (the temporary-schema shadow).
async fn replay_with(
    driver: &mut dyn Driver,
    migrations: &[&Migration],
    in_transaction: bool,
) -> Result<(), Error> {
    let dialect = driver.dialect();
    let mut on_event = |_: &crate::events::Event| {};
    let mut ex = Executor::new(driver, &mut on_event);
    for m in migrations {
        let script = Script::for_replay(m, dialect);
        let mut mode = script.mode(dialect);
        if let Mode::Transaction { savepoint, .. } = &mut mode {
            *savepoint = in_transaction;
        }
        match ex.run(&script, &mode, None, &mut Scratch).await {
            Ok(()) => {}
            Err(RunError::Step(failure) | RunError::LockGaveUp { failure, .. }) => {
                return Err(Error::ReplayFailed {
                    name: m.name.clone(),
                    failure: Box::new(failure),
                })
            }
            Err(RunError::Differs(d)) => {
                return Err(DriverError::Server {
                    code: None,
                    message: d.join("; "),
                }
                .into())
            }
            Err(RunError::Driver(e)) => return Err(e.into()),
        }
    }
    Ok(())
}
