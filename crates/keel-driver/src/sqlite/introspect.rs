//! SQLite introspection (sqlite_schema and pragmas). Being written.

use crate::DriverError;
use keel_core::schema::Schema;
use sqlx::sqlite::SqliteConnection;

/// Reads the schema of the current database.
pub(crate) async fn introspect(_conn: &mut SqliteConnection) -> Result<Schema, DriverError> {
    Err(DriverError::Server { code: None, message: "SQLite introspection is not implemented yet".into() })
}
