//! The one error of reading a Prisma schema: where (file, line, column) and what.

use std::path::{Path, PathBuf};

/// A schema that cannot be read or does not mean a database schema (keel's K1012, after
/// Prisma's P1012 "schema validation error"): the file, line and column (from 1, 0 when the
/// error is about the file as a whole) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", path.display(), place(*line, *column))]
pub struct PslError {
    /// The file.
    pub path: PathBuf,
    /// Line, from 1 (0: the whole file).
    pub line: u32,
    /// Column in characters, from 1 (0: the whole line).
    pub column: u32,
    /// What is wrong, in one sentence.
    pub message: String,
}

/// `:line:column`, `:line`, or nothing for an error about the whole file.
fn place(line: u32, column: u32) -> String {
    match (line, column) {
        (0, _) => String::new(),
        (l, 0) => format!(":{l}"),
        (l, c) => format!(":{l}:{c}"),
    }
}

impl PslError {
    /// An error at `line`:`column` of `path`.
    pub fn at(path: &Path, line: u32, column: u32, message: impl Into<String>) -> PslError {
        PslError {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }
}
