//! MySQL/MariaDB introspection (information_schema). Being written.

use crate::DriverError;
use keel_core::schema::Schema;
use sqlx::mysql::MySqlConnection;

/// Reads the schema of the current database.
pub(crate) async fn introspect(_conn: &mut MySqlConnection) -> Result<Schema, DriverError> {
    Err(DriverError::Server { code: None, message: "MySQL introspection is not implemented yet".into() })
}
