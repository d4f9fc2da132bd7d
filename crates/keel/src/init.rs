//! `keel init` and `keel new NAME`: scaffolding on disk.

use crate::{Error, Settings, CONFIG_FILE};
use keel_core::migrations::{write_lock_file, LOCK_FILE};
use keel_driver::parse_url;
use std::path::{Path, PathBuf};

/// Files `init` wrote (existing files are left alone and not listed).
#[derive(Debug, Clone, Default)]
pub struct InitReport {
    /// Created files and directories.
    pub created: Vec<PathBuf>,
    /// Files that already existed and were kept.
    pub kept: Vec<PathBuf>,
}

/// Writes `keel.toml`, the migrations directory with `migration_lock.toml` for the
/// database's provider, and an empty `schema.sql`, in `project`. Never overwrites a file.
///
/// # Errors
/// [`Error::Driver`] (K1013) for an unparseable URL; [`Error::Write`] (K4015).
pub fn init(settings: &Settings, project: &Path) -> Result<InitReport, Error> {
    // A new project with no URL configured gets SQLite, written into keel.toml where it is
    // seen; no other command assumes it.
    let url = if settings.database_url_source == "nowhere" {
        crate::DEFAULT_DATABASE_URL.to_string()
    } else {
        settings.database_url.clone()
    };
    let dialect = parse_url(&url)?.dialect();
    let mut report = InitReport::default();
    let write = |path: PathBuf, text: String, report: &mut InitReport| -> Result<(), Error> {
        if path.exists() {
            report.kept.push(path);
            return Ok(());
        }
        std::fs::write(&path, text).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        report.created.push(path);
        Ok(())
    };
    let dir = &settings.migrations_dir;
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.clone(),
            source,
        })?;
        report.created.push(dir.clone());
    }
    let rel_dir = dir.strip_prefix(project).unwrap_or(dir);
    write(
        project.join(CONFIG_FILE),
        format!(
            "# keel settings; each also has a flag and DATABASE_URL overrides database_url.\n\
             # Do not put a production password here: use the DATABASE_URL environment variable.\n\
             database_url = \"{}\"\nmigrations = \"{}\"\n",
            keel_core::redact::redact_url(&url),
            rel_dir.display()
        ),
        &mut report,
    )?;
    let lock = dir.join(LOCK_FILE);
    if lock.exists() {
        report.kept.push(lock);
    } else {
        write_lock_file(dir, dialect).map_err(|source| Error::Write {
            path: lock.clone(),
            source,
        })?;
        report.created.push(lock);
    }
    write(
        project.join("schema.sql"),
        "-- The desired schema, as plain SQL DDL (used by `keel plan`).\n".to_string(),
        &mut report,
    )?;
    Ok(report)
}

/// Creates `<migrations>/<14-digit UTC version>_<name>/migration.sql` (empty but for a
/// comment) and returns its path. The version is the current UTC time, bumped by a second if
/// a migration with that version exists.
///
/// # Errors
/// [`Error::InvalidName`] (K4010) unless `name` matches `[a-z0-9_]+`; [`Error::Write`].
pub fn new_migration(settings: &Settings, name: &str) -> Result<PathBuf, Error> {
    check_name(name)?;
    let dir = &settings.migrations_dir;
    let existing = keel_core::migrations::read_dir(dir)?;
    let mut t = chrono::Utc::now();
    let version = loop {
        let v = t.format("%Y%m%d%H%M%S").to_string();
        if !existing.migrations.iter().any(|m| m.version == v) {
            break v;
        }
        t += chrono::Duration::seconds(1);
    };
    let folder = dir.join(format!("{version}_{name}"));
    std::fs::create_dir_all(&folder).map_err(|source| Error::Write {
        path: folder.clone(),
        source,
    })?;
    let file = folder.join("migration.sql");
    std::fs::write(&file, format!("-- {name}\n")).map_err(|source| Error::Write {
        path: file.clone(),
        source,
    })?;
    Ok(file)
}

/// Checks a migration name: `[a-z0-9_]+`.
///
/// # Errors
/// [`Error::InvalidName`] (K4010).
pub(crate) fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Error::InvalidName {
            name: name.to_string(),
        });
    }
    Ok(())
}
