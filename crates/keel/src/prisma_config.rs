//! `prisma.config.ts` (Prisma 7 projects): the migrations path it sets, when it is a string
//! literal (`migrations: { path: "prisma/migrations" }`). keel does not run TypeScript: a path
//! computed by code is reported as unreadable, never guessed.
//!
//! Source: Prisma's `defineConfig` (`prisma/config`), keys `schema` and `migrations.path`.

use std::path::Path;

/// The file names Prisma looks for, in its order.
pub const FILES: [&str; 4] = [
    "prisma.config.ts",
    "prisma.config.mts",
    "prisma.config.js",
    "prisma.config.mjs",
];

/// The first `prisma.config.*` file in `project`, when there is one.
pub fn file(project: &Path) -> Option<std::path::PathBuf> {
    FILES.iter().map(|f| project.join(f)).find(|p| p.is_file())
}

/// What keel read of a `prisma.config.*` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationsPath {
    /// No config file, or it sets no `migrations.path`.
    Unset,
    /// `migrations.path` is this string literal (relative to the file's directory).
    Literal(String),
    /// `migrations.path` is an expression keel cannot evaluate.
    NotLiteral {
        /// The file.
        file: String,
    },
}

/// Reads `migrations.path` from the first `prisma.config.*` file in `project`.
pub fn migrations_path(project: &Path) -> MigrationsPath {
    for name in FILES {
        let Ok(text) = std::fs::read_to_string(project.join(name)) else {
            continue;
        };
        return match find_path(&strip_comments(&text)) {
            None => MigrationsPath::Unset,
            Some(Some(p)) => MigrationsPath::Literal(p),
            Some(None) => MigrationsPath::NotLiteral {
                file: name.to_string(),
            },
        };
    }
    MigrationsPath::Unset
}

/// The `schema` path the first `prisma.config.*` file in `project` sets, when it is a plain
/// string literal (`schema: "prisma/schema.prisma"`); `None` for no file, no key, or a
/// computed value (never guessed).
pub fn schema_path(project: &Path) -> Option<String> {
    let text = FILES
        .iter()
        .find_map(|name| std::fs::read_to_string(project.join(name)).ok())?;
    let text = strip_comments(&text);
    let mut from = 0;
    while let Some(i) = text[from..].find("schema") {
        let at = from + i;
        from = at + "schema".len();
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '$') {
            continue;
        }
        let Some(value) = text[from..].trim_start().strip_prefix(':') else {
            continue;
        };
        return string_literal(value);
    }
    None
}

/// What keel read of the external-table lists of a `prisma.config.*` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalLists {
    /// `tables.external` and `enums.external` as string literals (empty when unset).
    Literal(keel_prisma::External),
    /// One of them is not an array of plain string literals.
    NotLiteral {
        /// The file.
        file: String,
        /// `tables.external` or `enums.external`.
        key: &'static str,
    },
}

/// Reads `tables.external` and `enums.external` (Prisma's externally managed tables, Preview
/// since 6.13) from the first `prisma.config.*` file in `project`.
pub fn external_lists(project: &Path) -> ExternalLists {
    let Some((name, text)) = FILES
        .iter()
        .find_map(|name| Some((*name, std::fs::read_to_string(project.join(name)).ok()?)))
    else {
        return ExternalLists::Literal(keel_prisma::External::default());
    };
    let text = strip_comments(&text);
    let mut out = keel_prisma::External::default();
    for (outer, key, list) in [
        ("tables", "tables.external", &mut out.tables),
        ("enums", "enums.external", &mut out.enums),
    ] {
        match literal_list(&text, outer, "external") {
            Ok(v) => *list = v,
            Err(()) => {
                return ExternalLists::NotLiteral {
                    file: name.to_string(),
                    key,
                }
            }
        }
    }
    ExternalLists::Literal(out)
}

/// `migrations.initShadowDb` of the first `prisma.config.*` file in `project`: the SQL Prisma
/// runs on a shadow database before it replays the migrations (to create the external tables
/// they refer to). `Ok(None)` for no file or no key; `Err(file)` when it is not a plain string
/// literal.
pub fn init_shadow_db(project: &Path) -> Result<Option<String>, String> {
    let Some((name, text)) = FILES
        .iter()
        .find_map(|name| Some((*name, std::fs::read_to_string(project.join(name)).ok()?)))
    else {
        return Ok(None);
    };
    let text = strip_comments(&text);
    let Some(at) = find_key(&text, "migrations", 0) else {
        return Ok(None);
    };
    let Some(body) = text[at..].trim_start().strip_prefix('{') else {
        return Err(name.to_string());
    };
    let body = &body[..matching_brace(body)];
    let Some(at) = find_key(body, "initShadowDb", 0) else {
        return Ok(None);
    };
    string_literal(&body[at..])
        .map(Some)
        .ok_or_else(|| name.to_string())
}

/// The plain string literal `value` starts with (after spaces), when it is one and nothing
/// but `,` or `}` follows it: no escapes, no `${…}`.
fn string_literal(value: &str) -> Option<String> {
    let value = value.trim_start();
    let q = value.chars().next()?;
    if !matches!(q, '"' | '\'' | '`') {
        return None;
    }
    let inner = &value[1..];
    let end = inner.find(q)?;
    let lit = &inner[..end];
    let tail = inner[end + 1..].trim_start();
    let plain = !(lit.contains('\\') || (q == '`' && lit.contains("${")));
    (plain && (tail.is_empty() || tail.starts_with(',') || tail.starts_with('}')))
        .then(|| lit.to_string())
}

/// The index just past `key:` at a place outside string literals where `key` is a whole
/// property name, from `from` on.
fn find_key(text: &str, key: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = from;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if matches!(c, b'"' | b'\'' | b'`') {
            // A quoted property name (`"tables": …`) counts as the name.
            let inner = &bytes[i + 1..];
            if inner.starts_with(key.as_bytes()) && inner.get(key.len()) == Some(&c) {
                let after = i + 1 + key.len() + 1;
                if let Some(rest) = text[after..].trim_start().strip_prefix(':') {
                    return Some(text.len() - rest.len());
                }
            }
            quote = Some(c);
            i += 1;
            continue;
        }
        if bytes[i..].starts_with(key.as_bytes()) {
            let before = text[..i].chars().next_back();
            let whole =
                !before.is_some_and(|b| b.is_alphanumeric() || b == '_' || b == '$' || b == '.');
            if whole {
                if let Some(rest) = text[i + key.len()..].trim_start().strip_prefix(':') {
                    return Some(text.len() - rest.len());
                }
            }
        }
        i += 1;
    }
    None
}

/// `outer: { inner: ["a", 'b'] }` → `Ok(["a", "b"])`; `Ok([])` when either key is absent;
/// `Err(())` when the list (or the object) is computed or holds anything but plain string
/// literals.
fn literal_list(text: &str, outer: &str, inner: &str) -> Result<Vec<String>, ()> {
    let Some(at) = find_key(text, outer, 0) else {
        return Ok(Vec::new());
    };
    let Some(body) = text[at..].trim_start().strip_prefix('{') else {
        return Err(());
    };
    let body = &body[..matching_brace(body)];
    let Some(at) = find_key(body, inner, 0) else {
        return Ok(Vec::new());
    };
    let Some(mut rest) = body[at..].trim_start().strip_prefix('[') else {
        return Err(());
    };
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix(']') {
            let tail = r.trim_start();
            return if tail.is_empty() || tail.starts_with(',') || tail.starts_with('}') {
                Ok(out)
            } else {
                Err(())
            };
        }
        let q = rest.chars().next().ok_or(())?;
        if !matches!(q, '"' | '\'' | '`') {
            return Err(());
        }
        let inner = &rest[1..];
        let end = inner.find(q).ok_or(())?;
        let lit = &inner[..end];
        if lit.contains('\\') || (q == '`' && lit.contains("${")) {
            return Err(());
        }
        out.push(lit.to_string());
        rest = inner[end + 1..].trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.starts_with(']') {
            return Err(());
        }
    }
}

/// `text` without `//` and `/* */` comments (strings kept as they are).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
                out.push(' ');
            }
            ('"' | '\'' | '`', _) => {
                quote = Some(c);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// `None`: no `migrations: { path: … }`; `Some(None)`: a path that is not a plain string
/// literal; `Some(Some(p))`: the literal.
fn find_path(text: &str) -> Option<Option<String>> {
    let mut from = 0;
    while let Some(i) = text[from..].find("migrations") {
        let at = from + i;
        from = at + "migrations".len();
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let rest = text[from..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let Some(body) = rest.trim_start().strip_prefix('{') else {
            // `migrations: someVariable`: the object itself is computed.
            return Some(None);
        };
        let body = &body[..matching_brace(body)];
        let mut search = 0;
        while let Some(j) = body[search..].find("path") {
            let p = search + j;
            search = p + 4;
            let prev = body[..p].chars().next_back();
            if prev.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let after = body[search..].trim_start();
            let Some(value) = after.strip_prefix(':') else {
                continue;
            };
            return Some(string_literal(value));
        }
        return None;
    }
    None
}

/// The length of `body` up to its closing `}` (depth counted, strings skipped roughly).
fn matching_brace(body: &str) -> usize {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in body.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' | '`' => quote = Some(c),
                '{' => depth += 1,
                '}' if depth == 0 => return i,
                '}' => depth -= 1,
                _ => {}
            },
        }
    }
    body.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use keel_prisma::External;

    fn read(text: &str) -> MigrationsPath {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("prisma.config.ts"), text).unwrap();
        migrations_path(t.path())
    }

    #[test]
    fn literal_paths_are_read() {
        let cfg = r#"import { defineConfig, env } from "prisma/config";
// migrations: { path: "commented/out" }
export default defineConfig({
  schema: "db/schema.prisma",
  migrations: {
    seed: "tsx db/seed.ts",
    path: 'db/migrations', // where they live
  },
  datasource: { url: env("DATABASE_URL") },
});
"#;
        assert_eq!(read(cfg), MigrationsPath::Literal("db/migrations".into()));
        assert_eq!(
            read("export default { migrations: { path: `x/y` } }"),
            MigrationsPath::Literal("x/y".into())
        );
    }

    #[test]
    fn computed_paths_are_not_guessed() {
        for cfg in [
            "export default defineConfig({ migrations: { path: path.join(__dirname, 'm') } })",
            "export default defineConfig({ migrations: { path: `${root}/m` } })",
            "export default defineConfig({ migrations: { path: 'a' + b } })",
            "export default defineConfig({ migrations: migrationsConfig })",
        ] {
            assert!(
                matches!(read(cfg), MigrationsPath::NotLiteral { .. }),
                "{cfg}"
            );
        }
    }

    fn lists(text: &str) -> ExternalLists {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("prisma.config.ts"), text).unwrap();
        external_lists(t.path())
    }

    #[test]
    fn external_lists_are_read_when_literal() {
        let cfg = r#"import { defineConfig } from "prisma/config";
export default defineConfig({
  experimental: { externalTables: true },
  migrations: { initShadowDb: `CREATE TABLE tables (external text);` },
  // tables: { external: ["commented"] },
  tables: {
    external: ["public.users", 'auth.sessions',],
  },
  "enums": { external: [`public.role`] },
});
"#;
        let External { tables, enums } = match lists(cfg) {
            ExternalLists::Literal(e) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(tables, ["public.users", "auth.sessions"]);
        assert_eq!(enums, ["public.role"]);
        assert_eq!(
            lists("export default defineConfig({ schema: 'x' })"),
            ExternalLists::Literal(External::default())
        );
        let t = tempfile::tempdir().unwrap();
        assert_eq!(
            external_lists(t.path()),
            ExternalLists::Literal(External::default())
        );
    }

    #[test]
    fn init_shadow_db_is_read_when_literal() {
        let t = tempfile::tempdir().unwrap();
        let read = |text: &str| {
            std::fs::write(t.path().join("prisma.config.ts"), text).unwrap();
            init_shadow_db(t.path())
        };
        assert_eq!(
            read("export default defineConfig({\n  migrations: {\n    path: 'm',\n    initShadowDb: `\n      CREATE TABLE users (id int primary key);\n    `,\n  },\n})"),
            Ok(Some("\n      CREATE TABLE users (id int primary key);\n    ".into()))
        );
        assert_eq!(
            read("export default defineConfig({ migrations: { path: 'm' } })"),
            Ok(None)
        );
        assert_eq!(read("export default defineConfig({})"), Ok(None));
        assert!(read(
            "export default { migrations: { initShadowDb: fs.readFileSync('x.sql', 'utf8') } }"
        )
        .is_err());
        assert!(
            read("export default { migrations: { initShadowDb: `CREATE SCHEMA ${name};` } }")
                .is_err()
        );
    }

    #[test]
    fn computed_external_lists_are_not_guessed() {
        for (cfg, key) in [
            (
                "export default { tables: { external: names } }",
                "tables.external",
            ),
            (
                "export default { tables: { external: [...names] } }",
                "tables.external",
            ),
            (
                "export default { tables: { external: [`${s}.users`] } }",
                "tables.external",
            ),
            ("export default { tables: someTables }", "tables.external"),
            (
                "export default { enums: { external: ['a', b] } }",
                "enums.external",
            ),
            (
                "export default { enums: { external: ['a'].concat(b) } }",
                "enums.external",
            ),
        ] {
            assert!(
                matches!(lists(cfg), ExternalLists::NotLiteral { key: k, .. } if k == key),
                "{cfg}"
            );
        }
    }

    #[test]
    fn no_path_is_unset() {
        assert_eq!(
            read("export default defineConfig({ schema: 'prisma/schema.prisma' })"),
            MigrationsPath::Unset
        );
        let t = tempfile::tempdir().unwrap();
        assert_eq!(migrations_path(t.path()), MigrationsPath::Unset);
    }
}
