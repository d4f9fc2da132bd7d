//! keel's pure core: everything about migrations that needs no database.
//!
//! - [`migrations`]: reading a migrations directory (Prisma folders and flat sqlx/golang-migrate
//!   files), versions and their order, checksums and directives.
//! - [`splitter`]: the dialect-aware step splitter built on sqlparser's tokenizer.
//! - [`ledger`]: ledger rows and [`ledger::reconcile`], the pure function from files × rows to states.
//! - [`redact`]: removing passwords from database URLs before they reach any output.
//!
//! This crate has no database I/O and no async runtime (see STYLE.md, "Target layout").

pub mod checksum;
pub mod codes;
pub mod dialect;
pub mod directives;
pub mod ledger;
pub mod migrations;
pub mod redact;
pub mod splitter;

pub use dialect::Dialect;
pub mod schema;
