//! Text → [`Ast`]: the pest grammar in `psl.pest`, then one pass over its pairs.

use crate::ast::{
    Argument, Arity, Attribute, Block, BlockKind, Expr, Field, Span, TypeName, Value,
};
use crate::error::PslError;
use pest::iterators::Pair;
use pest::Parser;
use std::path::Path;

#[derive(pest_derive::Parser)]
#[grammar = "psl.pest"]
struct Psl;

/// Parses the text of one file, appending its blocks to `blocks`; `file` is the index its
/// spans carry, `path` the name its errors give.
///
/// # Errors
/// [`PslError`] at the line and column where the text stops being Prisma schema.
pub fn parse_file(
    path: &Path,
    file: usize,
    text: &str,
    blocks: &mut Vec<Block>,
) -> Result<(), PslError> {
    let mut pairs = Psl::parse(Rule::schema, text).map_err(|e| {
        let (line, column) = match e.line_col {
            pest::error::LineColLocation::Pos(p) | pest::error::LineColLocation::Span(p, _) => p,
        };
        let found: String = text
            .lines()
            .nth(line.saturating_sub(1))
            .map(|l| l.chars().skip(column.saturating_sub(1)).take(24).collect())
            .unwrap_or_default();
        let message = if found.trim().is_empty() {
            "this line is not Prisma schema (a block, field, attribute or setting was expected)"
                .to_string()
        } else {
            format!(
                "this is not Prisma schema here: `{}` (a block, field, attribute or setting was expected)",
                found.trim_end().escape_debug()
            )
        };
        PslError::at(path, line as u32, column as u32, message)
    })?;
    let Some(schema) = pairs.next() else {
        return Ok(());
    };
    for pair in schema.into_inner() {
        if pair.as_rule() == Rule::block {
            blocks.push(block(file, pair));
        }
    }
    Ok(())
}

fn span(file: usize, pair: &Pair<'_, Rule>) -> Span {
    let (line, column) = pair.line_col();
    Span {
        file,
        line: line as u32,
        column: column as u32,
    }
}

fn block(file: usize, pair: Pair<'_, Rule>) -> Block {
    let mut inner = pair.into_inner();
    let kind = match inner.next().map(|p| p.as_str()) {
        Some("model") => BlockKind::Model,
        Some("view") => BlockKind::View,
        Some("type") => BlockKind::Type,
        Some("enum") => BlockKind::Enum,
        Some("datasource") => BlockKind::Datasource,
        _ => BlockKind::Generator,
    };
    let name_pair = inner.next();
    let (name, at) = name_pair
        .map(|p| (p.as_str().to_string(), span(file, &p)))
        .unwrap_or_default();
    let mut b = Block {
        kind,
        name,
        span: at,
        fields: Vec::new(),
        values: Vec::new(),
        settings: Vec::new(),
        attributes: Vec::new(),
    };
    let Some(body) = inner.next() else {
        return b;
    };
    for member in body.into_inner() {
        let at = span(file, &member);
        match member.as_rule() {
            Rule::block_attribute => b.attributes.push(attribute(file, member)),
            Rule::key_value => {
                let mut kv = member.into_inner();
                let key = kv
                    .next()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default();
                if let Some(value) = kv.next() {
                    b.settings.push((key, expr(value), at));
                }
            }
            Rule::field => {
                let mut f = member.into_inner();
                let name = f.next().map(|p| p.as_str().to_string()).unwrap_or_default();
                let (type_name, arity) = f
                    .next()
                    .map(field_type)
                    .unwrap_or((TypeName::Named(String::new()), Arity::Required));
                b.fields.push(Field {
                    name,
                    span: at,
                    type_name,
                    arity,
                    attributes: f.map(|a| attribute(file, a)).collect(),
                });
            }
            Rule::value => {
                let mut v = member.into_inner();
                let name = v.next().map(|p| p.as_str().to_string()).unwrap_or_default();
                b.values.push(Value {
                    name,
                    span: at,
                    attributes: v.map(|a| attribute(file, a)).collect(),
                });
            }
            _ => {}
        }
    }
    b
}

fn field_type(pair: Pair<'_, Rule>) -> (TypeName, Arity) {
    let mut type_name = TypeName::Named(String::new());
    let mut arity = Arity::Required;
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::path => type_name = TypeName::Named(p.as_str().to_string()),
            Rule::unsupported => {
                let text = p.into_inner().next().map(string).unwrap_or_default();
                type_name = TypeName::Unsupported(text);
            }
            Rule::list_marker => arity = Arity::List,
            Rule::optional => arity = Arity::Optional,
            _ => {}
        }
    }
    (type_name, arity)
}

fn attribute(file: usize, pair: Pair<'_, Rule>) -> Attribute {
    let at = span(file, &pair);
    let mut inner = pair.into_inner();
    let name = inner
        .next()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let arguments = inner.next().map(arguments).unwrap_or_default();
    Attribute {
        name,
        span: at,
        arguments,
    }
}

fn arguments(pair: Pair<'_, Rule>) -> Vec<Argument> {
    pair.into_inner()
        .filter(|p| p.as_rule() == Rule::argument)
        .map(|a| {
            let mut parts: Vec<Pair<'_, Rule>> = a.into_inner().collect();
            let value = parts.pop().map(expr).unwrap_or(Expr::Array(Vec::new()));
            let name = parts.pop().map(|p| p.as_str().to_string());
            Argument { name, value }
        })
        .collect()
}

fn expr(pair: Pair<'_, Rule>) -> Expr {
    match pair.as_rule() {
        Rule::string => Expr::String(string(pair)),
        Rule::number => Expr::Number(pair.as_str().to_string()),
        Rule::call => {
            let mut inner = pair.into_inner();
            let name = inner
                .next()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            Expr::Call(name, inner.next().map(arguments).unwrap_or_default())
        }
        Rule::array => Expr::Array(pair.into_inner().map(expr).collect()),
        _ => Expr::Path(pair.as_str().to_string()),
    }
}

/// The text of a string literal, its JSON-style escapes resolved (`\"`, `\\`, `\n`, `\t`,
/// `\r`, `\uXXXX`); an unknown escape keeps its character.
fn string(pair: Pair<'_, Rule>) -> String {
    let raw = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Block>, PslError> {
        let mut blocks = Vec::new();
        parse_file(Path::new("schema.prisma"), 0, text, &mut blocks)?;
        Ok(blocks)
    }

    #[test]
    fn reads_blocks_fields_attributes_and_settings() -> Result<(), PslError> {
        let blocks = parse(
            r#"
// a comment
datasource db {
  provider = "postgresql" // trailing
  url      = env("DATABASE_URL")
}

/// a doc comment
model User {
  id    Int     @id @default(autoincrement())
  email String? @unique @db.VarChar(255)
  tags  String[]
  raw   Unsupported("circle")?
  posts Post[]

  @@index([email(sort: Desc), id], map: "u_idx", type: Hash)
  @@map("users")
}

enum Role {
  ADMIN @map("admin")
  USER
}
"#,
        )?;
        assert_eq!(blocks.len(), 3);
        assert_eq!(blocks[0].kind, BlockKind::Datasource);
        assert_eq!(
            blocks[0].settings[1].1,
            Expr::Call(
                "env".into(),
                vec![Argument {
                    name: None,
                    value: Expr::String("DATABASE_URL".into())
                }]
            )
        );
        let user = &blocks[1];
        assert_eq!(user.name, "User");
        assert_eq!(user.span.line, 9);
        assert_eq!(user.fields.len(), 5);
        assert_eq!(user.fields[1].arity, Arity::Optional);
        assert_eq!(user.fields[1].attributes[1].name, "db.VarChar");
        assert_eq!(user.fields[2].arity, Arity::List);
        assert_eq!(
            user.fields[3].type_name,
            TypeName::Unsupported("circle".into())
        );
        let index = &user.attributes[0];
        assert_eq!(index.name, "index");
        assert_eq!(
            index.argument("map", false),
            Some(&Expr::String("u_idx".into()))
        );
        assert_eq!(blocks[2].values.len(), 2);
        assert_eq!(blocks[2].values[0].attributes[0].name, "map");
        Ok(())
    }

    #[test]
    fn arguments_may_span_lines() -> Result<(), PslError> {
        let blocks = parse(
            "model A {\n  id Int @id\n  @@index([\n    id, // first\n  ],\n  map: \"x\")\n}\n",
        )?;
        assert_eq!(blocks[0].attributes[0].arguments.len(), 2);
        Ok(())
    }

    #[test]
    fn strings_resolve_escapes() -> Result<(), PslError> {
        let blocks = parse("model A {\n  id String @id @default(\"a\\\"b\\\\c\\u00e9\")\n}\n")?;
        let d = &blocks[0].fields[0].attributes[1].arguments[0].value;
        assert_eq!(d, &Expr::String("a\"b\\cé".into()));
        Ok(())
    }

    #[test]
    fn an_error_names_line_and_column() {
        let e = parse("model A {\n  id Int @id\n  = broken\n}\n").err();
        let e = e.map(|e| (e.line, e.column));
        assert_eq!(e, Some((3, 3)));
    }

    #[test]
    fn an_unclosed_block_is_an_error_not_a_hang() {
        assert!(parse("model A {\n  id Int @id\n").is_err());
        assert!(parse("model A {\n  id Int @default(\"x)\n}\n").is_err());
        assert!(parse("\u{0}").is_err());
    }
}
