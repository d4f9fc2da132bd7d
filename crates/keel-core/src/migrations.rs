//! The migrations directory: finding it, reading its migrations in order, `migration_lock.toml`.
//!
//! Layouts read (issue #2, item 2):
//! - Prisma folders: `<version>_<name>/migration.sql` (+ optional `down.sql`).
//! - Flat files: `<version>_<name>.sql` (sqlx), `<version>_<name>.up.sql` + `.down.sql`
//!   (golang-migrate, dbmate, sqlx reversible).
//!
//! A migration's ledger name (`migration_name`) is the folder name, or the file name without
//! `.sql` / `.up.sql`.

use crate::checksum;
use crate::codes::ErrorCode;
use crate::directives::{self, DirectiveError, Directives};
use crate::Dialect;
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// The name of Prisma's lock file inside the migrations directory.
pub const LOCK_FILE: &str = "migration_lock.toml";

/// One migration read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The ledger's `migration_name`: folder name, or file name without `.sql`/`.up.sql`.
    pub name: String,
    /// The leading digits of the name (`20260410120000`, `0001`, `0`). Empty when the name
    /// does not start with digits (still accepted; such migrations sort by name, first).
    pub version: String,
    /// Path of the up script (`migration.sql` or the flat file).
    pub path: PathBuf,
    /// Path of the down script when one exists.
    pub down_path: Option<PathBuf>,
    /// The up script's text.
    pub script: String,
    /// SHA-256 hex of the up script's bytes. The checksum of the same bytes with CRLF/LF
    /// swapped is accepted as a match too ([`Migration::checksum_matches`]).
    pub checksum: String,
    /// The script's `-- keel:` directives.
    pub directives: Directives,
}

impl Migration {
    /// Builds a migration from its name and script bytes (used by the directory reader and by
    /// embedders that ship migrations inside their binary).
    ///
    /// # Errors
    /// [`MigrationsError::NotUtf8`] and [`MigrationsError::Directive`].
    pub fn from_bytes(
        name: &str,
        path: PathBuf,
        down_path: Option<PathBuf>,
        bytes: Vec<u8>,
    ) -> Result<Migration, MigrationsError> {
        let checksum = checksum::sha256_hex(&bytes);
        let script = String::from_utf8(bytes)
            .map_err(|_| MigrationsError::NotUtf8 { path: path.clone() })?;
        check_nul(&path, &script)?;
        let directives =
            directives::parse(&script).map_err(|source| MigrationsError::Directive {
                path: path.clone(),
                source,
            })?;
        Ok(Migration {
            name: name.to_string(),
            version: version_of(name).to_string(),
            path,
            down_path,
            script,
            checksum,
            directives,
        })
    }

    /// Its `down.sql`, read now as a migration named `NAME/down.sql`; `None` when it has none.
    ///
    /// # Errors
    /// [`MigrationsError::Io`] when the file cannot be read, and as [`Migration::from_bytes`].
    pub fn read_down(&self) -> Result<Option<Migration>, MigrationsError> {
        let Some(path) = &self.down_path else {
            return Ok(None);
        };
        let bytes = std::fs::read(path).map_err(|source| MigrationsError::Io {
            path: path.clone(),
            source,
        })?;
        Migration::from_bytes(
            &format!("{}/down.sql", self.name),
            path.clone(),
            None,
            bytes,
        )
        .map(Some)
    }

    /// Whether `recorded` (a ledger checksum) matches this file, in either line-ending form
    /// (the swapped form is hashed only when the file's own checksum does not match).
    pub fn checksum_matches(&self, recorded: &str) -> bool {
        let recorded = recorded.trim();
        self.checksum.eq_ignore_ascii_case(recorded)
            || checksum::swapped_line_endings_sha256_hex(self.script.as_bytes())
                .is_some_and(|alt| alt.eq_ignore_ascii_case(recorded))
    }
}

/// The layout a directory was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `<version>_<name>/migration.sql` folders (Prisma, keel).
    Folders,
    /// `<version>_<name>.sql` or `.up.sql` files (sqlx, golang-migrate, dbmate).
    Flat,
    /// No migrations yet.
    Empty,
}

/// A migrations directory, read.
#[derive(Debug, Clone)]
pub struct MigrationsDir {
    /// The directory.
    pub root: PathBuf,
    /// The provider named in `migration_lock.toml`, if the file exists.
    pub lock_provider: Option<String>,
    /// Whether `migration_lock.toml` exists (marks a Prisma project).
    pub has_lock_file: bool,
    /// How the migrations are laid out.
    pub layout: Layout,
    /// Migrations in apply order (see [`compare_names`]).
    pub migrations: Vec<Migration>,
}

impl MigrationsDir {
    /// Checks `migration_lock.toml`'s provider against the database's dialect.
    ///
    /// # Errors
    /// [`MigrationsError::ProviderMismatch`] when the lock file names another database, and
    /// [`MigrationsError::UnknownProvider`] when it names one keel does not know.
    pub fn check_provider(&self, dialect: Dialect) -> Result<(), MigrationsError> {
        let Some(p) = &self.lock_provider else {
            return Ok(());
        };
        match Dialect::from_provider(p) {
            Some(d) if d == dialect => Ok(()),
            Some(_) => Err(MigrationsError::ProviderMismatch {
                path: self.root.join(LOCK_FILE),
                provider: p.clone(),
                database: dialect,
            }),
            None => Err(MigrationsError::UnknownProvider {
                path: self.root.join(LOCK_FILE),
                provider: p.clone(),
            }),
        }
    }

    /// The migration named `name`, if on disk.
    pub fn get(&self, name: &str) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.name == name)
    }
}

/// Errors reading a migrations directory. Each has a stable code (see `docs/errors.md`).
#[derive(Debug, thiserror::Error)]
pub enum MigrationsError {
    /// The directory or a file in it could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// What was being read.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A migration folder's name is not `<numeric version>_<name>`, or holds whitespace, `..`
    /// or control characters.
    #[error("`{path}` is not a valid migration name: {reason}")]
    BadName {
        /// The folder.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// A migration folder has no `migration.sql` (Prisma's P3015).
    #[error("migration folder `{path}` has no migration.sql")]
    MissingFile {
        /// The folder.
        path: PathBuf,
    },
    /// A migration file is not UTF-8 text.
    #[error("`{path}` is not UTF-8 text")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// A SQL file holds a NUL byte: the servers take statements as C strings (PostgreSQL
    /// breaks the connection, SQLite stops parsing there and, through sqlx, spins), so it is
    /// refused before anything runs.
    #[error("`{path}` line {line}, column {column}: a NUL byte (\\0); SQL text cannot hold one")]
    NulByte {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
    },
    /// A `-- keel:` directive could not be read.
    #[error("`{path}`: {source}")]
    Directive {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: DirectiveError,
    },
    /// Two files give the same migration name.
    #[error("two files give the migration name `{name}`: `{first}` and `{second}`")]
    DuplicateName {
        /// The name.
        name: String,
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// `migration_lock.toml` is not valid TOML or lacks `provider`.
    #[error("`{path}` is not a valid lock file: {message}")]
    BadLockFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The lock file names another database (Prisma's P3019).
    #[error("`{path}` says provider = \"{provider}\" but the database is {database}")]
    ProviderMismatch {
        /// The lock file.
        path: PathBuf,
        /// Its provider.
        provider: String,
        /// The database's dialect.
        database: Dialect,
    },
    /// The lock file names a provider keel does not support.
    #[error("`{path}` names provider \"{provider}\", which keel does not support (postgresql, mysql, sqlite)")]
    UnknownProvider {
        /// The lock file.
        path: PathBuf,
        /// Its provider.
        provider: String,
    },
}

impl MigrationsError {
    /// The stable error code, documented in `docs/errors.md`.
    pub fn code(&self) -> ErrorCode {
        match self {
            MigrationsError::Io { .. } => ErrorCode::K4012,
            MigrationsError::MissingFile { .. } => ErrorCode::K3015,
            MigrationsError::BadName { .. } => ErrorCode::K4016,
            MigrationsError::NotUtf8 { .. } => ErrorCode::K4012,
            MigrationsError::NulByte { .. } => ErrorCode::K4017,
            MigrationsError::Directive { .. } => ErrorCode::K4011,
            MigrationsError::DuplicateName { .. } => ErrorCode::K4013,
            MigrationsError::BadLockFile { .. } => ErrorCode::K4014,
            MigrationsError::ProviderMismatch { .. } => ErrorCode::K3019,
            MigrationsError::UnknownProvider { .. } => ErrorCode::K3019,
        }
    }
}

/// The version of a migration name: its leading ASCII digits.
pub fn version_of(name: &str) -> &str {
    let end = name
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(name.len());
    &name[..end]
}

/// Apply order of two migration names: by version, compared numerically when both are digit
/// strings (so `2_x` < `10_x`, and `01_a` = `1_a` as versions), then by the whole name.
pub fn compare_names(a: &str, b: &str) -> Ordering {
    compare_versions(version_of(a), version_of(b)).then_with(|| a.cmp(b))
}

fn compare_versions(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Refuses a NUL byte anywhere in the SQL text `script` read from `path` (comments included:
/// SQLite's parser stops at it, so a NUL in a comment would hide the rest of the file).
///
/// # Errors
/// [`MigrationsError::NulByte`] (K4017) with the line and column of the first one.
pub fn check_nul(path: &Path, script: &str) -> Result<(), MigrationsError> {
    let Some(at) = script.find('\0') else {
        return Ok(());
    };
    let before = &script[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Err(MigrationsError::NulByte {
        path: path.to_path_buf(),
        line,
        column,
    })
}

/// Finds the migrations directory of a project rooted at `project`: `migrations/` if it
/// exists, else `prisma/migrations/` if it exists, else `migrations/` (to be created).
pub fn find_dir(project: &Path) -> PathBuf {
    let keel = project.join("migrations");
    if keel.is_dir() {
        return keel;
    }
    let prisma = project.join("prisma").join("migrations");
    if prisma.is_dir() {
        return prisma;
    }
    keel
}

/// One entry directly inside a migrations directory, read into memory: what
/// [`from_entries`] builds a [`MigrationsDir`] from. The file-system reader ([`read_dir`]) and
/// embedders (migrations compiled into a binary) both produce these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A folder: the bytes of its `migration.sql` when it has one, and whether it has a
    /// `down.sql`.
    Folder {
        /// The folder's name.
        name: String,
        /// `migration.sql`'s bytes.
        up: Option<Vec<u8>>,
        /// Whether `down.sql` exists.
        down: bool,
    },
    /// A file; its bytes when they matter (`.sql` up files and `migration_lock.toml`).
    File {
        /// The file's name.
        name: String,
        /// Its bytes, or `None` when not read.
        bytes: Option<Vec<u8>>,
    },
}

/// Reads the migrations directory at `root`. A directory that does not exist reads as empty
/// (a new project), so that `status` can still report the ledger.
///
/// # Errors
/// Every [`MigrationsError`] except the provider checks.
pub fn read_dir(root: &Path) -> Result<MigrationsDir, MigrationsError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MigrationsError::Io { path, source }
    };
    if !root.exists() {
        return from_entries(root, Vec::new());
    }
    // The entry's type comes with the directory listing (no `stat` per entry); a symlink is
    // followed with one `stat`, and a link that leads nowhere (or in a loop) is an error, not
    // a file to skip.
    let mut listed: Vec<(PathBuf, bool)> = Vec::new();
    for e in std::fs::read_dir(root).map_err(io(root))? {
        let e = e.map_err(io(root))?;
        let path = e.path();
        let ty = e.file_type().map_err(io(&path))?;
        let is_dir = if ty.is_symlink() {
            std::fs::metadata(&path).map_err(io(&path))?.is_dir()
        } else {
            ty.is_dir()
        };
        listed.push((path, is_dir));
    }
    listed.sort();
    // A file that is not there reads as `None`; any other error is one.
    let read_if_present = |p: &Path| match std::fs::read(p) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(MigrationsError::Io {
            path: p.to_path_buf(),
            source: e,
        }),
    };
    let mut entries = Vec::new();
    for (path, is_dir) in listed {
        let Some(file_name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if file_name.starts_with('.') {
            continue;
        }
        if is_dir {
            let up_path = path.join("migration.sql");
            let up = match read_if_present(&up_path) {
                // `migration.sql` is a directory, or unreadable as a file: as if absent.
                Err(MigrationsError::Io { source, .. })
                    if up_path.is_dir() || source.kind() == std::io::ErrorKind::IsADirectory =>
                {
                    None
                }
                other => other?,
            };
            entries.push(Entry::Folder {
                name: file_name,
                up,
                down: path.join("down.sql").is_file(),
            });
        } else {
            let wanted = file_name == LOCK_FILE || flat_up_name(&file_name).is_some();
            let bytes = if wanted {
                Some(std::fs::read(&path).map_err(io(&path))?)
            } else {
                None
            };
            entries.push(Entry::File {
                name: file_name,
                bytes,
            });
        }
    }
    from_entries(root, entries)
}

/// Builds the migrations directory `root` from its entries, read into memory: the same rules
/// as [`read_dir`] (layouts, names, order, duplicates, the lock file). Entries whose name
/// starts with `.` are skipped.
///
/// # Errors
/// Every [`MigrationsError`] except the provider checks and I/O.
pub fn from_entries(
    root: &Path,
    mut entries: Vec<Entry>,
) -> Result<MigrationsDir, MigrationsError> {
    let mut dir = MigrationsDir {
        root: root.to_path_buf(),
        lock_provider: None,
        has_lock_file: false,
        layout: Layout::Empty,
        migrations: Vec::new(),
    };
    let entry_name = |e: &Entry| match e {
        Entry::Folder { name, .. } | Entry::File { name, .. } => name.clone(),
    };
    entries.sort_by_key(entry_name);
    let files: std::collections::HashSet<String> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::File { name, .. } => Some(name.clone()),
            Entry::Folder { .. } => None,
        })
        .collect();
    let mut found: Vec<Migration> = Vec::new();
    let mut folders = 0usize;
    let mut flat = 0usize;
    for entry in entries {
        match entry {
            Entry::Folder { name, .. } | Entry::File { name, .. } if name.starts_with('.') => {}
            Entry::Folder { name, up, down } => {
                let path = root.join(&name);
                let Some(bytes) = up else {
                    // A folder holding SQL files of another layout is not ours to judge; one
                    // that looks like a migration folder but lacks its script is Prisma's P3015.
                    if looks_like_migration_name(&name) {
                        return Err(MigrationsError::MissingFile { path });
                    }
                    continue;
                };
                if let Some(reason) = bad_name(&name) {
                    return Err(MigrationsError::BadName { path, reason });
                }
                found.push(Migration::from_bytes(
                    &name,
                    path.join("migration.sql"),
                    down.then(|| path.join("down.sql")),
                    bytes,
                )?);
                folders += 1;
            }
            Entry::File { name, bytes } => {
                let path = root.join(&name);
                if name == LOCK_FILE {
                    dir.has_lock_file = true;
                    dir.lock_provider = Some(lock_provider(&path, &bytes.unwrap_or_default())?);
                } else if let Some(m) = flat_up_name(&name) {
                    let down_name = format!("{m}.down.sql");
                    found.push(Migration::from_bytes(
                        m,
                        path.clone(),
                        (name.ends_with(".up.sql") && files.contains(&down_name))
                            .then(|| root.join(&down_name)),
                        bytes.unwrap_or_default(),
                    )?);
                    flat += 1;
                }
            }
        }
    }
    found.sort_by(|a, b| compare_names(&a.name, &b.name));
    for pair in found.windows(2) {
        if pair[0].name == pair[1].name {
            return Err(MigrationsError::DuplicateName {
                name: pair[0].name.clone(),
                first: pair[0].path.clone(),
                second: pair[1].path.clone(),
            });
        }
    }
    dir.layout = match (folders, flat) {
        (0, 0) => Layout::Empty,
        (_, 0) => Layout::Folders,
        _ => Layout::Flat,
    };
    dir.migrations = found;
    Ok(dir)
}

/// Why a migration folder's name is not acceptable, if it is not.
fn bad_name(name: &str) -> Option<&'static str> {
    if !looks_like_migration_name(name) {
        Some("it must start with a numeric version and `_` (e.g. 20260101000000_init)")
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it holds whitespace or control characters")
    } else if name.contains("..") {
        Some("it holds `..`")
    } else {
        None
    }
}

fn looks_like_migration_name(name: &str) -> bool {
    let v = version_of(name);
    !v.is_empty() && name[v.len()..].starts_with('_')
}

/// The migration name of a flat up file, or `None` for files that are not up migrations
/// (down files, other extensions, names without a leading version).
fn flat_up_name(file_name: &str) -> Option<&str> {
    if file_name.ends_with(".down.sql") {
        return None;
    }
    let name = file_name
        .strip_suffix(".up.sql")
        .or_else(|| file_name.strip_suffix(".sql"))?;
    looks_like_migration_name(name).then_some(name)
}

fn lock_provider(path: &Path, bytes: &[u8]) -> Result<String, MigrationsError> {
    let bad = |message: String| MigrationsError::BadLockFile {
        path: path.to_path_buf(),
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))?;
    let value: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| bad(e.message().to_string()))?;
    match value.get("provider") {
        Some(toml::Value::String(p)) => Ok(p.clone()),
        _ => Err(bad("no `provider = \"...\"` line".into())),
    }
}

/// Writes Prisma's `migration_lock.toml` for `dialect` into `dir` (same content as Prisma's).
///
/// # Errors
/// The I/O error when the file cannot be written.
pub fn write_lock_file(dir: &Path, dialect: Dialect) -> std::io::Result<()> {
    std::fs::write(
        dir.join(LOCK_FILE),
        format!(
            "# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = \"{}\"\n",
            dialect.prisma_provider()
        ),
    )
}

#[cfg(test)]
mod tests;
