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
        Project::open_reading(settings, Settings::read_migrations).await
    }

    /// [`Project::open`] where a missing default migrations directory reads as empty
    /// (`keel baseline` writes the first migration).
    ///
    /// # Errors
    /// As [`Project::open`], without [`Error::NoMigrationsDir`].
    pub async fn open_allow_missing(settings: &Settings) -> Result<Project, Error> {
        Project::open_reading(settings, Settings::read_migrations_allow_missing).await
    }

    /// Reads the directory with `read` and connects. SQLite: first the directory and its
    /// provider, then the connection (which creates the file). PostgreSQL and MySQL, where
    /// connecting creates nothing: both at once (for 820 migrations each takes about 20 ms),
    /// the directory's errors first, so that they are reported whatever the server does.
    async fn open_reading(
        settings: &Settings,
        read: fn(&Settings) -> Result<MigrationsDir, Error>,
    ) -> Result<Project, Error> {
        let url = settings.url()?;
        if url.dialect() == keel_core::Dialect::Sqlite {
            let dir = read(settings)?;
            dir.check_provider(url.dialect())?;
            let driver = keel_driver::connect_to(url).await?;
            return Project::with(dir, driver, settings).await;
        }
        let owned = settings.clone();
        let reading = tokio::task::spawn_blocking(move || read(&owned));
        let parsed = url.clone();
        let connecting = tokio::spawn(async move { keel_driver::connect_to(&parsed).await });
        // A reader that panicked or was cancelled: read again here, to get its error.
        let dir = match reading.await {
            Ok(r) => r,
            Err(_) => read(settings),
        };
        let dir = match dir {
            Ok(dir) => dir,
            Err(e) => {
                // Reported at once, not after a connection attempt that may take its timeout;
                // a connection already made is closed.
                connecting.abort();
                if let Ok(Ok(driver)) = connecting.await {
                    driver.close().await;
                }
                return Err(e);
            }
        };
        match connecting.await {
            Ok(Ok(driver)) => Project::with(dir, driver, settings).await,
            Ok(Err(e)) => {
                dir.check_provider(url.dialect())?;
                Err(e.into())
            }
            // The connecting task panicked: connect here instead.
            Err(_) => {
                dir.check_provider(url.dialect())?;
                let driver = keel_driver::connect_to(url).await?;
                Project::with(dir, driver, settings).await
            }
        }
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
        let (ledger_table, ledger_exists) = match &settings.ledger_table {
            Some(t) => (t.clone(), driver.table_exists(t).await?),
            None => choose_ledger(&dir, driver.as_mut()).await?,
        };
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
/// exists and keel's does not), else `_keel_migrations`; and whether it exists. Each table is
/// looked up at most once.
async fn choose_ledger(
    dir: &MigrationsDir,
    driver: &mut dyn Driver,
) -> Result<(String, bool), Error> {
    let (first, second) = if dir.has_lock_file {
        (PRISMA_TABLE, KEEL_TABLE)
    } else {
        (KEEL_TABLE, PRISMA_TABLE)
    };
    if driver.table_exists(first).await? {
        return Ok((first.to_string(), true));
    }
    let other = driver.table_exists(second).await?;
    if dir.has_lock_file {
        if other {
            // The ledger must not change name silently when migration_lock.toml appears: a
            // history recorded in keel's table would look unrecorded (issue #13, item 6).
            return Err(Error::OtherLedger {
                expected: PRISMA_TABLE.into(),
                found: KEEL_TABLE.into(),
                why: "migration_lock.toml makes this a Prisma project".into(),
            });
        }
        return Ok((PRISMA_TABLE.to_string(), false));
    }
    if other {
        return Ok((PRISMA_TABLE.to_string(), true));
    }
    Ok((KEEL_TABLE.to_string(), false))
}
