//! Which file is the desired schema when none is named: `schema.sql`, else the Prisma
//! project's `schema.prisma`, found where Prisma looks for it.
//!
//! Source: Prisma's documentation "Prisma schema → location": the `schema` of
//! `prisma.config.ts`, then `package.json`'s `prisma.schema`, then `prisma/schema.prisma`,
//! then the `prisma/schema/` folder (multi-file), then `schema.prisma`.

use std::path::{Path, PathBuf};

/// The desired schema of the project in `project`: `schema.sql` when it exists; else the first
/// of the `schema` string literal of `prisma.config.*`, `package.json`'s `prisma.schema`,
/// `prisma/schema.prisma`, a `prisma/schema/` folder holding `.prisma` files, `schema.prisma`;
/// else `schema.sql` (which the caller then reports as missing).
pub fn default_schema(project: &Path) -> PathBuf {
    let sql = project.join("schema.sql");
    if sql.exists() {
        return sql;
    }
    if let Some(p) = crate::prisma_config::schema_path(project) {
        return project.join(p);
    }
    if let Some(p) = package_json_schema(project) {
        return project.join(p);
    }
    let file = project.join("prisma").join("schema.prisma");
    if file.is_file() {
        return file;
    }
    let folder = project.join("prisma").join("schema");
    let has_prisma = std::fs::read_dir(&folder).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "prisma"))
    });
    if has_prisma {
        return folder;
    }
    let root = project.join("schema.prisma");
    if root.is_file() {
        return root;
    }
    sql
}

/// `package.json`'s `"prisma": { "schema": "…" }`.
fn package_json_schema(project: &Path) -> Option<String> {
    let text = std::fs::read_to_string(project.join("package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("prisma")?
        .get("schema")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_schema_where_prisma_looks() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let p = dir.path();
        assert_eq!(default_schema(p), p.join("schema.sql"));
        std::fs::write(p.join("schema.prisma"), "")?;
        assert_eq!(default_schema(p), p.join("schema.prisma"));
        std::fs::create_dir_all(p.join("prisma/schema"))?;
        std::fs::write(p.join("prisma/schema/a.prisma"), "")?;
        assert_eq!(default_schema(p), p.join("prisma/schema"));
        std::fs::write(p.join("prisma/schema.prisma"), "")?;
        assert_eq!(default_schema(p), p.join("prisma/schema.prisma"));
        std::fs::write(
            p.join("package.json"),
            r#"{"prisma": {"schema": "db/x.prisma"}}"#,
        )?;
        assert_eq!(default_schema(p), p.join("db/x.prisma"));
        std::fs::write(
            p.join("prisma.config.ts"),
            "export default defineConfig({\n  // schema: 'no'\n  schema: \"cfg/s.prisma\",\n})\n",
        )?;
        assert_eq!(default_schema(p), p.join("cfg/s.prisma"));
        std::fs::write(p.join("schema.sql"), "")?;
        assert_eq!(default_schema(p), p.join("schema.sql"));
        Ok(())
    }

    #[test]
    fn a_computed_schema_path_is_not_guessed() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let p = dir.path();
        std::fs::write(
            p.join("prisma.config.ts"),
            "export default defineConfig({ schema: path.join('a', 'b') })",
        )?;
        std::fs::create_dir_all(p.join("prisma"))?;
        std::fs::write(p.join("prisma/schema.prisma"), "")?;
        assert_eq!(default_schema(p), p.join("prisma/schema.prisma"));
        Ok(())
    }
}
