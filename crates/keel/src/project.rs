//! What every command starts from: the migrations directory, a connection, the ledger.

use crate::error::Error;
use crate::settings::Settings;
use keel_core::ledger::{self, LedgerRow, Reconciled, KEEL_TABLE, PRISMA_TABLE};
use keel_core::migrations::MigrationsDir;
use keel_driver::Driver;

/// An opened project: migrations read, database connected, ledger table chosen.
pub(crate) struct Project {
    pub dir: MigrationsDir,
    pub driver: Box<dyn Driver>,
    pub ledger_table: String,
    pub ledger_exists: bool,
}

impl Project {
    /// Reads the migrations directory, connects, checks `migration_lock.toml` against the
    /// database and decides which ledger table to use.
    ///
    /// # Errors
    /// [`Error::NoMigrationsDir`] (K4012) when there is no migrations directory; the
    /// migrations' errors; K1013 for a bad URL; K4015 when `migration_lock.toml` names another
    /// provider than the URL, checked before connecting (so that no SQLite file is created for a
    /// PostgreSQL history); connection errors.
    pub async fn open(settings: &Settings) -> Result<Project, Error> {
        keel_driver::parse_url(&settings.database_url)?;
        let dir = settings.read_migrations()?;
        Project::connect(dir, settings).await
    }

    /// [`Project::open`] where a missing default migrations directory reads as empty
    /// (`keel baseline` writes the first migration).
    ///
    /// # Errors
    /// As [`Project::open`], without [`Error::NoMigrationsDir`].
    pub async fn open_allow_missing(settings: &Settings) -> Result<Project, Error> {
        keel_driver::parse_url(&settings.database_url)?;
        let dir = settings.read_migrations_allow_missing()?;
        Project::connect(dir, settings).await
    }

    async fn connect(dir: MigrationsDir, settings: &Settings) -> Result<Project, Error> {
        let url = keel_driver::parse_url(&settings.database_url)?;
        dir.check_provider(url.dialect())?;
        let driver = keel_driver::connect(&settings.database_url).await?;
        Project::with(dir, driver, settings).await
    }

    /// [`Project::open`] with the migrations already read and a connection made (the
    /// embedding API: migrations compiled into the binary, a connection from the
    /// application's pool).
    pub async fn with(
        dir: MigrationsDir,
        mut driver: Box<dyn Driver>,
        settings: &Settings,
    ) -> Result<Project, Error> {
        if let Err(e) = dir.check_provider(driver.dialect()) {
            driver.close().await;
            return Err(e.into());
        }
        let ledger_table = match &settings.ledger_table {
            Some(t) => t.clone(),
            None => choose_ledger(&dir, driver.as_mut()).await?,
        };
        let ledger_exists = driver.table_exists(&ledger_table).await?;
        Ok(Project {
            dir,
            driver,
            ledger_table,
            ledger_exists,
        })
    }

    /// Re-reads whether the ledger exists (after waiting for the lock, another process may
    /// have created it).
    pub async fn refresh(&mut self) -> Result<(), Error> {
        self.ledger_exists = self.driver.table_exists(&self.ledger_table).await?;
        Ok(())
    }

    /// The ledger's rows (none when the table does not exist).
    pub async fn rows(&mut self) -> Result<Vec<LedgerRow>, Error> {
        if !self.ledger_exists {
            return Ok(Vec::new());
        }
        Ok(self.driver.read_ledger(&self.ledger_table).await?)
    }

    /// Files × rows → states.
    pub async fn reconcile(&mut self) -> Result<(Vec<LedgerRow>, Reconciled), Error> {
        let rows = self.rows().await?;
        let r = ledger::reconcile(&self.dir.migrations, &rows);
        Ok((rows, r))
    }

    /// Creates the ledger table when absent.
    pub async fn ensure_ledger(&mut self) -> Result<bool, Error> {
        if self.ledger_exists {
            return Ok(false);
        }
        self.driver.create_ledger(&self.ledger_table).await?;
        self.ledger_exists = true;
        Ok(true)
    }

    /// Releases the lock (if held) and closes the connection.
    pub async fn close(mut self) {
        let _ = self.driver.unlock().await;
        self.driver.close().await;
    }
}

/// `_prisma_migrations` in a Prisma project (a `migration_lock.toml` exists, or that table
/// exists and keel's does not), else `_keel_migrations`.
async fn choose_ledger(dir: &MigrationsDir, driver: &mut dyn Driver) -> Result<String, Error> {
    if dir.has_lock_file {
        // The ledger must not change name silently when migration_lock.toml appears: a
        // history recorded in keel's table would look unrecorded (issue #13, item 6).
        if !driver.table_exists(PRISMA_TABLE).await? && driver.table_exists(KEEL_TABLE).await? {
            return Err(Error::OtherLedger {
                expected: PRISMA_TABLE.into(),
                found: KEEL_TABLE.into(),
                why: "migration_lock.toml makes this a Prisma project".into(),
            });
        }
        return Ok(PRISMA_TABLE.to_string());
    }
    if !driver.table_exists(KEEL_TABLE).await? && driver.table_exists(PRISMA_TABLE).await? {
        return Ok(PRISMA_TABLE.to_string());
    }
    Ok(KEEL_TABLE.to_string())
}
