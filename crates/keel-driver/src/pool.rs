//! Drivers on a connection taken from an application's sqlx pool (the embedding API:
//! `keel::Migrator::deploy_with(&pool)`).
//!
//! The connection is detached from the pool (the pool opens a replacement when it needs one)
//! and closed after the deploy, so the session-level deploy lock and settings never leak into
//! the application's connections.

use crate::{mysql, postgres, sqlite, Driver, DriverError};
use async_trait::async_trait;

/// A pool keel can take one connection from: `sqlx::PgPool`, `sqlx::MySqlPool`,
/// `sqlx::SqlitePool`.
#[async_trait]
pub trait PoolSource: Send + Sync {
    /// Takes one connection out of the pool and wraps it in a [`Driver`]. The driver's URL
    /// (for messages and for creating a shadow database on the same server) is built from the
    /// pool's options and never holds the password.
    ///
    /// # Errors
    /// [`DriverError::Connect`] when the pool yields no connection.
    async fn take_driver(&self) -> Result<Box<dyn Driver>, DriverError>;
}

fn pool_error(url: &str, e: sqlx::Error) -> DriverError {
    DriverError::Connect {
        url: url.to_string(),
        message: e.to_string(),
    }
}

#[async_trait]
impl PoolSource for sqlx::PgPool {
    async fn take_driver(&self) -> Result<Box<dyn Driver>, DriverError> {
        let opts = (*self.connect_options()).clone();
        let url = format!(
            "postgres://{}@{}:{}/{}",
            opts.get_username(),
            opts.get_host(),
            opts.get_port(),
            opts.get_database().unwrap_or_default()
        );
        let conn = self
            .acquire()
            .await
            .map_err(|e| pool_error(&url, e))?
            .detach();
        Ok(Box::new(postgres::PgDriver::from_conn(conn, url, opts)))
    }
}

#[async_trait]
impl PoolSource for sqlx::MySqlPool {
    async fn take_driver(&self) -> Result<Box<dyn Driver>, DriverError> {
        let opts = self.connect_options();
        let url = format!(
            "mysql://{}@{}:{}/{}",
            opts.get_username(),
            opts.get_host(),
            opts.get_port(),
            opts.get_database().unwrap_or_default()
        );
        let conn = self
            .acquire()
            .await
            .map_err(|e| pool_error(&url, e))?
            .detach();
        Ok(Box::new(mysql::MySqlDriver::from_conn(conn, url).await?))
    }
}

#[async_trait]
impl PoolSource for sqlx::SqlitePool {
    async fn take_driver(&self) -> Result<Box<dyn Driver>, DriverError> {
        let opts = self.connect_options();
        let file = opts.get_filename().to_path_buf();
        let memory = file.as_os_str().is_empty() || file.to_string_lossy().contains(":memory:");
        let url = if memory {
            "sqlite::memory:".to_string()
        } else {
            format!("sqlite://{}", file.display())
        };
        let conn = self
            .acquire()
            .await
            .map_err(|e| pool_error(&url, e))?
            .detach();
        Ok(Box::new(sqlite::SqliteDriver::from_conn(
            conn,
            url,
            (!memory).then_some(file),
        )))
    }
}
