//! `.env` files, as Prisma reads them: the project directory's `.env` and the Prisma schema
//! directory's (`prisma/.env`). Real environment variables win over both; a variable the two
//! files define differently is an error (Prisma refuses the same conflict), never a guess.
//!
//! Source of the convention: Prisma CLI, "Environment variables" (`.env` next to the project
//! root and next to `schema.prisma`). Parsing is dotenvy's.

use crate::Error;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The variables keel takes from `.env` files.
pub const KEYS: [&str; 2] = ["DATABASE_URL", "SHADOW_DATABASE_URL"];

/// The `.env` values of [`KEYS`] for `project`, with the file each came from.
#[derive(Debug, Clone, Default)]
pub struct DotEnv {
    values: BTreeMap<String, (String, PathBuf)>,
}

impl DotEnv {
    /// Reads `project/.env` and `project/prisma/.env` (each optional).
    ///
    /// # Errors
    /// [`Error::Config`] (K4020) for a file that exists but cannot be read or parsed (the
    /// message names the line, never a value); [`Error::DotEnvConflict`] (K4021) when both
    /// files set one of [`KEYS`] to different values.
    pub fn read(project: &Path) -> Result<DotEnv, Error> {
        let mut out = DotEnv::default();
        for path in [project.join(".env"), project.join("prisma").join(".env")] {
            if !path.is_file() {
                continue;
            }
            let iter = dotenvy::from_path_iter(&path).map_err(|e| Error::Config {
                path: path.clone(),
                message: describe(&e),
            })?;
            for item in iter {
                let (key, value) = item.map_err(|e| Error::Config {
                    path: path.clone(),
                    message: describe(&e),
                })?;
                if !KEYS.contains(&key.as_str()) {
                    continue;
                }
                match out.values.get(&key) {
                    Some((v, first)) if *v != value => {
                        return Err(Error::DotEnvConflict {
                            key,
                            first: first.clone(),
                            second: path.clone(),
                        })
                    }
                    Some(_) => {}
                    None => {
                        out.values.insert(key, (value, path.clone()));
                    }
                }
            }
        }
        Ok(out)
    }

    /// The value of `key` from a `.env` file, if one sets it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|(v, _)| v.as_str())
    }

    /// The file that set `key`.
    pub fn source(&self, key: &str) -> Option<&Path> {
        self.values.get(key).map(|(_, p)| p.as_path())
    }
}

/// dotenvy's error without the line's text (it could hold a password).
fn describe(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(_, index) => {
            format!("a line does not parse as KEY=VALUE (at character {index})")
        }
        dotenvy::Error::Io(io) => io.to_string(),
        _ => "cannot be read".into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_files_and_refuses_a_conflict() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(
            t.path().join(".env"),
            "# comment\nDATABASE_URL=\"postgres://u:p@h/db\"\nOTHER=1\n",
        )
        .unwrap();
        let e = DotEnv::read(t.path()).unwrap();
        assert_eq!(e.get("DATABASE_URL"), Some("postgres://u:p@h/db"));
        assert_eq!(e.get("OTHER"), None);
        std::fs::create_dir(t.path().join("prisma")).unwrap();
        std::fs::write(
            t.path().join("prisma/.env"),
            "SHADOW_DATABASE_URL=postgres://u@h/shadow\nDATABASE_URL=postgres://u:p@h/db\n",
        )
        .unwrap();
        let e = DotEnv::read(t.path()).unwrap();
        assert_eq!(e.get("SHADOW_DATABASE_URL"), Some("postgres://u@h/shadow"));
        std::fs::write(
            t.path().join("prisma/.env"),
            "DATABASE_URL=postgres://u:p@h/other\n",
        )
        .unwrap();
        let e = DotEnv::read(t.path()).unwrap_err();
        assert_eq!(e.code(), "K4021");
        assert!(!e.to_string().contains("other"), "{e}");
    }

    #[test]
    fn a_bad_line_names_no_value() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(
            t.path().join(".env"),
            "DATABASE_URL='postgres://u:hunter2@h/db\n",
        )
        .unwrap();
        match DotEnv::read(t.path()) {
            Err(e) => assert!(!e.to_string().contains("hunter2"), "{e}"),
            Ok(e) => assert!(e.get("DATABASE_URL").is_some()),
        }
    }
}
