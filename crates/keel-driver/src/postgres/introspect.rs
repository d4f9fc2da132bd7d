//! PostgreSQL introspection (pg_catalog). Being written.

use crate::DriverError;
use keel_core::schema::Schema;
use sqlx::postgres::PgConnection;

/// Reads the schema of the current database.
pub(crate) async fn introspect(_conn: &mut PgConnection) -> Result<Schema, DriverError> {
    Err(DriverError::Server { code: None, message: "PostgreSQL introspection is not implemented yet".into() })
}
