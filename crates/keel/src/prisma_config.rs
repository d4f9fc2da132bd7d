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
        return (plain && (tail.is_empty() || tail.starts_with(',') || tail.starts_with('}')))
            .then(|| lit.to_string());
    }
    None
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
            let value = value.trim_start();
            let q = value.chars().next()?;
            if !matches!(q, '"' | '\'' | '`') {
                return Some(None);
            }
            let inner = &value[1..];
            let end = inner.find(q)?;
            let lit = &inner[..end];
            let tail = inner[end + 1..].trim_start();
            let plain = !(lit.contains('\\') || (q == '`' && lit.contains("${")));
            if !plain || !(tail.is_empty() || tail.starts_with(',') || tail.starts_with('}')) {
                return Some(None);
            }
            return Some(Some(lit.to_string()));
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
