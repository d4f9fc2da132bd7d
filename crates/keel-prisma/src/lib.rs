//! keel's reader of the Prisma Schema Language.
//!
//! [`read`] parses `schema.prisma` (a file, or a folder of `.prisma` files) into an
//! [`ast::Ast`]; [`build::build`] maps it to keel's schema model for the datasource's
//! provider with Prisma Migrate's own column types, defaults, constraint names and join
//! tables, so that a plan from a `schema.prisma` is the plan Prisma's engine would compute.
//! The rules come from Prisma's documentation and engine sources (prisma/prisma-engines:
//! `psl`, the SQL schema connector's schema calculator); the code is keel's.

pub mod ast;
pub mod build;
mod error;
pub mod external;
mod files;
pub mod keep;
pub mod names;
mod parse;
pub mod pull;

pub use build::{build, Desired};
pub use error::PslError;
pub use external::{ignore_external, leave_external, External};
pub use files::{is_prisma, read};
pub use keep::{keep_undescribed, same_spelling};
