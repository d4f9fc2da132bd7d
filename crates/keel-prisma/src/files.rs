//! Finding and reading a schema's files: one `.prisma` file, or every `.prisma` file under a
//! folder (Prisma's multi-file schema, `prismaSchemaFolder`), in path order.

use crate::ast::Ast;
use crate::error::PslError;
use std::path::{Path, PathBuf};

/// Reads and parses the schema at `path`: a file, or a folder whose `.prisma` files (in
/// sub-folders too, `migrations/` left out) together make one schema.
///
/// # Errors
/// [`PslError`] for a file that cannot be read (line 0), is not UTF-8, holds a NUL byte, or
/// does not parse; for a folder that holds no `.prisma` file.
pub fn read(path: &Path) -> Result<Ast, PslError> {
    let files = if path.is_dir() {
        let mut found = Vec::new();
        collect(path, &mut found, &mut Vec::new())?;
        // A file reached twice through a symbolic link is one file.
        let mut seen = std::collections::HashSet::new();
        found.retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
        found.sort();
        if found.is_empty() {
            return Err(PslError::at(
                path,
                0,
                0,
                "this folder holds no `.prisma` file",
            ));
        }
        found
    } else {
        vec![path.to_path_buf()]
    };
    let mut ast = Ast::default();
    for (i, file) in files.iter().enumerate() {
        let bytes = std::fs::read(file)
            .map_err(|e| PslError::at(file, 0, 0, format!("cannot be read: {e}")))?;
        let text =
            String::from_utf8(bytes).map_err(|_| PslError::at(file, 0, 0, "is not UTF-8 text"))?;
        if let Some(at) = text.find('\0') {
            let line = text[..at].matches('\n').count() as u32 + 1;
            return Err(PslError::at(file, line, 0, "holds a NUL byte"));
        }
        crate::parse::parse_file(file, i, &text, &mut ast.blocks)?;
    }
    ast.files = files;
    Ok(ast)
}

/// The `.prisma` files under `dir`; `visited` holds the folders read, by their real path, so
/// that a symbolic link back up the tree is not followed round.
fn collect(dir: &Path, out: &mut Vec<PathBuf>, visited: &mut Vec<PathBuf>) -> Result<(), PslError> {
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if visited.contains(&real) {
        return Ok(());
    }
    visited.push(real);
    let entries = std::fs::read_dir(dir)
        .map_err(|e| PslError::at(dir, 0, 0, format!("cannot be read: {e}")))?;
    for entry in entries {
        let entry = entry.map_err(|e| PslError::at(dir, 0, 0, format!("cannot be read: {e}")))?;
        let p = entry.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "migrations") {
                collect(&p, out, visited)?;
            }
        } else if p.extension().is_some_and(|e| e == "prisma") {
            out.push(p);
        }
    }
    Ok(())
}

/// Whether `path` names a Prisma schema rather than a DDL file: a folder, a `.prisma` file,
/// or a file whose first block is a `datasource`, `generator` or `model`.
pub fn is_prisma(path: &Path) -> bool {
    if path.is_dir() || path.extension().is_some_and(|e| e == "prisma") {
        return true;
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with("--"))
        .is_some_and(|l| {
            ["datasource ", "generator ", "model "]
                .iter()
                .any(|k| l.starts_with(k) && l.ends_with('{'))
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ONE: &str =
        "datasource db {\n  provider = \"postgresql\"\n}\nmodel A {\n  id Int @id\n}\n";

    #[test]
    fn a_folder_is_read_once_whatever_links_it_holds() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("schema");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join("migrations")).unwrap();
        std::fs::write(root.join("a.prisma"), ONE).unwrap();
        std::fs::write(root.join("sub/b.prisma"), "model B {\n  id Int @id\n}\n").unwrap();
        // Prisma's own migrations folder is not schema, even when it holds a .prisma file.
        std::fs::write(root.join("migrations/old.prisma"), ONE).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
            std::os::unix::fs::symlink("a.prisma", root.join("again.prisma")).unwrap();
        }
        let ast = read(&root).unwrap();
        assert_eq!(ast.files.len(), 2, "{:?}", ast.files);
        assert_eq!(ast.blocks.len(), 3);
    }

    #[test]
    fn unreadable_text_is_named() {
        let t = tempfile::tempdir().unwrap();
        let nul = t.path().join("nul.prisma");
        std::fs::write(&nul, "datasource db {\n  provider = \"postgresql\"\0\n}\n").unwrap();
        assert!(read(&nul).unwrap_err().to_string().contains("nul.prisma:2"));
        let latin1 = t.path().join("latin1.prisma");
        std::fs::write(&latin1, b"model Caf\xe9 {\n}\n").unwrap();
        assert!(read(&latin1).unwrap_err().to_string().contains("not UTF-8"));
        let missing = t.path().join("missing.prisma");
        assert!(read(&missing)
            .unwrap_err()
            .to_string()
            .contains("cannot be read"));
    }
}
