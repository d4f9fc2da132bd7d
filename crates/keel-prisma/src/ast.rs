//! The syntax tree of a Prisma schema: blocks, their fields and attributes, as written, each
//! with the place it was read from. No meaning is given here (see `crate::build`).

/// Where something was written: the file (an index into [`Ast::files`]), line and column
/// (both from 1, the column counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Index into [`Ast::files`].
    pub file: usize,
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub column: u32,
}

/// Every block of every file of a schema.
#[derive(Debug, Clone, Default)]
pub struct Ast {
    /// The files read, in the order their blocks appear in [`Ast::blocks`].
    pub files: Vec<std::path::PathBuf>,
    /// The blocks, file by file, each file's in its order.
    pub blocks: Vec<Block>,
}

/// What kind of block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// `model`.
    Model,
    /// `view`.
    View,
    /// `type` (a composite type; MongoDB only).
    Type,
    /// `enum`.
    Enum,
    /// `datasource`.
    Datasource,
    /// `generator`.
    Generator,
}

/// A block: `model User { … }`.
#[derive(Debug, Clone)]
pub struct Block {
    /// Its kind.
    pub kind: BlockKind,
    /// Its name.
    pub name: String,
    /// Where its name is.
    pub span: Span,
    /// Fields (models, views, composite types), in order.
    pub fields: Vec<Field>,
    /// Values (enums), in order.
    pub values: Vec<Value>,
    /// Settings (`provider = "postgresql"`: datasources, generators), in order.
    pub settings: Vec<(String, Expr, Span)>,
    /// Block attributes (`@@index(…)`), in order.
    pub attributes: Vec<Attribute>,
}

/// Whether a field holds one value, maybe none, or a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// `Type`.
    Required,
    /// `Type?`.
    Optional,
    /// `Type[]`.
    List,
}

/// A field's type as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeName {
    /// A scalar, enum, model or composite type name.
    Named(String),
    /// `Unsupported("…")`: a database type Prisma has no scalar for, the text given.
    Unsupported(String),
}

/// A field: `email String @unique`.
#[derive(Debug, Clone)]
pub struct Field {
    /// Its name.
    pub name: String,
    /// Where its name is.
    pub span: Span,
    /// Its type.
    pub type_name: TypeName,
    /// Its arity.
    pub arity: Arity,
    /// Its attributes, in order.
    pub attributes: Vec<Attribute>,
}

/// An enum value: `ADMIN @map("admin")`.
#[derive(Debug, Clone)]
pub struct Value {
    /// Its name.
    pub name: String,
    /// Where it is.
    pub span: Span,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
}

/// An attribute: `@db.VarChar(255)`, `@@index([a, b], map: "x")`.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// Its name without the `@`/`@@`: `id`, `db.VarChar`, `index`.
    pub name: String,
    /// Where it is.
    pub span: Span,
    /// Its arguments, in order.
    pub arguments: Vec<Argument>,
}

impl Attribute {
    /// The argument named `name`, or else the first unnamed one when `positional`.
    pub fn argument(&self, name: &str, positional: bool) -> Option<&Expr> {
        self.arguments
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .or_else(|| {
                positional
                    .then(|| self.arguments.iter().find(|a| a.name.is_none()))
                    .flatten()
            })
            .map(|a| &a.value)
    }
}

/// An argument: `map: "x"` or `"x"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Argument {
    /// Its name when given.
    pub name: Option<String>,
    /// Its value.
    pub value: Expr,
}

/// A value in an attribute or a setting.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `"text"`, escapes resolved.
    String(String),
    /// `42`, `-1.5`, as written.
    Number(String),
    /// A name or a dotted path: `true`, `Cascade`, `ADMIN`, `env`.
    Path(String),
    /// `now()`, `env("URL")`, `dbgenerated("…")`, `email(sort: Desc)`.
    Call(String, Vec<Argument>),
    /// `[a, b]`.
    Array(Vec<Expr>),
}

impl Expr {
    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::String(s) => Some(s),
            _ => None,
        }
    }

    /// The name of a path.
    pub fn as_path(&self) -> Option<&str> {
        match self {
            Expr::Path(s) => Some(s),
            _ => None,
        }
    }
}
