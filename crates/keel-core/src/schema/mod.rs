//! The schema model: what a database holds, as flat arenas with small typed ids (STYLE.md
//! habit 3). Introspection (crate `keel-driver`) fills it; the differ compares two of them.
//!
//! Canonical form: introspection stores names, types and expressions in the spelling the
//! database itself reports (PostgreSQL `format_type()` / `pg_get_expr()`, MySQL
//! `COLUMN_TYPE`, SQLite's declared type), and [`normalize`] folds the remaining aliases
//! (`int4` = `integer`, `character varying` = `varchar`, redundant casts in defaults), so two
//! schemas that mean the same compare equal.
//!
//! Types are kept as their native text rather than a closed enum of every type of three
//! databases: the text a catalog reports is already canonical per database, and a closed
//! enum would add thousands of lines without changing a comparison.

pub mod normalize;

use crate::Dialect;
use serde::Serialize;

macro_rules! id {
    ($name:ident) => {
        /// Index into the matching arena of a [`Schema`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub struct $name(pub u32);
        impl $name {
            /// The arena index.
            pub fn idx(self) -> usize {
                self.0 as usize
            }
        }
    };
}
id!(TableId);
id!(ColumnId);

/// A whole schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Schema {
    /// PostgreSQL schemas (namespaces) other than the current one, sorted. Objects in them
    /// carry `namespace: Some(name)`.
    pub namespaces: Vec<String>,
    /// Tables, ordered by (namespace, name) as introspection returns them.
    pub tables: Vec<Table>,
    /// Columns of every table; [`Column::table`] points back.
    pub columns: Vec<Column>,
    /// Indexes (including those backing unique constraints, marked as such).
    pub indexes: Vec<Index>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Check constraints.
    pub checks: Vec<Check>,
    /// PostgreSQL enum types (MySQL enums live in the column type).
    pub enums: Vec<Enum>,
    /// PostgreSQL domains and composite types, in creation order (a type may use one made
    /// before it).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub types: Vec<UserType>,
    /// PostgreSQL sequences not owned by an identity/serial column.
    pub sequences: Vec<Sequence>,
    /// PostgreSQL extensions.
    pub extensions: Vec<Extension>,
    /// Views.
    pub views: Vec<View>,
    /// PostgreSQL functions and procedures, by (namespace, name, arguments).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<Function>,
    /// Triggers (PostgreSQL, SQLite), by (table, name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// Database-wide objects the server runs by itself: MySQL events and PostgreSQL event
    /// triggers, by name.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub events: Vec<Event>,
    /// PostgreSQL: the tables with row-level security enabled or forced.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub row_security: Vec<RowSecurity>,
    /// PostgreSQL row-level security policies, by (table, name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// MySQL/MariaDB: the server's default storage engine (`@@default_storage_engine`), as
    /// introspection read it; `None` where unknown (a model read from `schema.prisma`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_engine: Option<String>,
    /// MySQL/MariaDB: the database's default collation, as introspection read it; `None`
    /// where unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_collation: Option<String>,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// PostgreSQL schema (namespace); `None` for the default one (`public` / current database).
    pub namespace: Option<String>,
    /// Table name.
    pub name: String,
    /// Primary key.
    pub primary_key: Option<PrimaryKey>,
    /// `COMMENT ON TABLE`.
    pub comment: Option<String>,
    /// SQLite: the table options after its definition, in SQLite's order (`WITHOUT ROWID`,
    /// `STRICT`, `WITHOUT ROWID, STRICT`); `None` for a plain rowid table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
    /// PostgreSQL declarative partitioning: the partition key of a partitioned table as
    /// `pg_get_partkeydef` prints it (`RANGE ("createdAt")`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_by: Option<String>,
    /// PostgreSQL: the partitioned table this table is a partition of, and its bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<PartitionOf>,
    /// MySQL/MariaDB: the storage engine (`MyISAM`) when it is not the server's default
    /// ([`Schema::default_engine`]); `None` for the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// MySQL/MariaDB: the table's default collation (`utf8mb4_bin`, which names its
    /// character set) when it is not its database's ([`Schema::default_collation`]); `None`
    /// for the database's. The columns' own collations are relative to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

/// Where a PostgreSQL partition belongs: its parent and its bound. The partition's columns
/// follow the parent's; its keys, indexes, checks and foreign keys cloned from the parent
/// are the parent's and not read as its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionOf {
    /// The parent's namespace (`None` for the current one).
    pub namespace: Option<String>,
    /// The parent's name.
    pub table: String,
    /// The bound as `pg_get_expr(relpartbound)` prints it: `FOR VALUES FROM ('2024-01-01')
    /// TO ('2024-02-01')`, `FOR VALUES IN ('a')`, `DEFAULT`.
    pub bound: String,
}

/// A primary key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrimaryKey {
    /// Constraint name (`None` when generated by the database, e.g. SQLite, MySQL `PRIMARY`).
    pub name: Option<String>,
    /// Key columns in order.
    pub columns: Vec<ColumnId>,
}

/// A column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    /// Its table.
    pub table: TableId,
    /// Name.
    pub name: String,
    /// Type as the database spells it (normalized), e.g. `varchar(255)`, `integer[]`,
    /// `timestamp(3) without time zone`, `enum('a','b')`.
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Default expression (normalized), e.g. `0`, `'draft'`, `now()`, `CURRENT_TIMESTAMP(3)`.
    pub default: Option<String>,
    /// PostgreSQL identity, MySQL `AUTO_INCREMENT`, SQLite `AUTOINCREMENT`, serial.
    pub auto_increment: Option<AutoIncrement>,
    /// Generated column expression and whether stored.
    pub generated: Option<Generated>,
    /// Collation when not the table's default.
    pub collation: Option<String>,
    /// `COMMENT ON COLUMN` / MySQL `COMMENT`.
    pub comment: Option<String>,
    /// MySQL/MariaDB `ON UPDATE CURRENT_TIMESTAMP[(p)]`, as `CURRENT_TIMESTAMP` or
    /// `CURRENT_TIMESTAMP(3)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
    /// MySQL/MariaDB `INVISIBLE`: left out of `SELECT *`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub invisible: bool,
}

/// How a column is filled automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AutoIncrement {
    /// PostgreSQL `GENERATED ALWAYS AS IDENTITY`.
    IdentityAlways,
    /// PostgreSQL `GENERATED BY DEFAULT AS IDENTITY`.
    IdentityByDefault,
    /// PostgreSQL `serial` (a default of `nextval()` on an owned sequence).
    Serial,
    /// MySQL `AUTO_INCREMENT`, SQLite `AUTOINCREMENT`.
    AutoIncrement,
}

/// A generated column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Generated {
    /// Expression.
    pub expression: String,
    /// `STORED` (else virtual).
    pub stored: bool,
}

/// One key part of an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum IndexPart {
    /// A column.
    Column(ColumnId),
    /// An expression, as the database prints it.
    Expression(String),
}

/// An index column with its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexColumn {
    /// Column or expression.
    pub part: IndexPart,
    /// `DESC`.
    pub descending: bool,
    /// MySQL prefix length (`name(10)`), PostgreSQL operator class when not the default.
    pub option: Option<String>,
}

/// An index, or the index of a unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Index {
    /// Its table.
    pub table: TableId,
    /// Name.
    pub name: String,
    /// Unique index or unique constraint.
    pub unique: bool,
    /// Backs a `UNIQUE` constraint (as opposed to a `CREATE UNIQUE INDEX`).
    pub constraint: bool,
    /// Key parts in order.
    pub columns: Vec<IndexColumn>,
    /// Access method when not the default (`gin`, `gist`, `hash`, MySQL `FULLTEXT`).
    pub method: Option<String>,
    /// Partial index predicate.
    pub predicate: Option<String>,
    /// `INCLUDE` columns.
    pub include: Vec<ColumnId>,
    /// PostgreSQL: the index is INVALID (`pg_index.indisvalid` false), left by a `CREATE INDEX
    /// CONCURRENTLY` that failed, was cancelled or was killed. Queries do not use it; every
    /// write still maintains it, and a unique one still rejects duplicates. Never true in a
    /// schema keel builds.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub invalid: bool,
    /// PostgreSQL 15+ `NULLS NOT DISTINCT` on a unique index: NULLs collide like values.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub nulls_not_distinct: bool,
    /// PostgreSQL storage parameters of the index (`WITH (…)`), as the catalog keeps them:
    /// `fillfactor=70, deduplicate_items=off`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub storage: Option<String>,
}

/// A referential action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Action {
    /// `NO ACTION` (the default).
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

impl Action {
    /// SQL spelling.
    pub fn sql(self) -> &'static str {
        match self {
            Action::NoAction => "NO ACTION",
            Action::Restrict => "RESTRICT",
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
            Action::SetDefault => "SET DEFAULT",
        }
    }

    /// Parses the catalog spelling (`CASCADE`, `SET NULL`, PostgreSQL's `a`/`r`/`c`/`n`/`d`).
    pub fn parse(s: &str) -> Action {
        match s.trim().to_ascii_uppercase().as_str() {
            "RESTRICT" | "R" => Action::Restrict,
            "CASCADE" | "C" => Action::Cascade,
            "SET NULL" | "N" => Action::SetNull,
            "SET DEFAULT" | "D" => Action::SetDefault,
            _ => Action::NoAction,
        }
    }
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    /// The referencing table.
    pub table: TableId,
    /// Constraint name (`None` in SQLite, where constraints are unnamed).
    pub name: Option<String>,
    /// Referencing columns.
    pub columns: Vec<ColumnId>,
    /// Referenced table.
    pub referenced_table: TableId,
    /// Referenced columns.
    pub referenced_columns: Vec<ColumnId>,
    /// `ON DELETE`.
    pub on_delete: Action,
    /// `ON UPDATE`.
    pub on_update: Action,
    /// `DEFERRABLE` (and `INITIALLY DEFERRED` when the second flag is set).
    pub deferrable: Option<bool>,
    /// PostgreSQL `NOT VALID`: added without checking the rows there, not validated since.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_valid: bool,
}

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Its table.
    pub table: TableId,
    /// Name.
    pub name: Option<String>,
    /// Expression; for a PostgreSQL exclusion constraint its whole definition as
    /// `pg_get_constraintdef` prints it (`EXCLUDE USING gist (room WITH =, during WITH &&)`).
    pub expression: String,
    /// PostgreSQL `NOT VALID`: added without checking the rows there, not validated since.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_valid: bool,
}

impl Check {
    /// Whether this is a PostgreSQL exclusion constraint: its expression is the definition
    /// `EXCLUDE USING …`, which no check expression can print as (an unquoted identifier is
    /// printed in lower case, and `USING` is no operator).
    pub fn is_exclusion(&self) -> bool {
        self.expression.starts_with("EXCLUDE USING ")
    }
}

/// A PostgreSQL domain or stand-alone composite type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserType {
    /// Namespace, `None` for the current one.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// `CREATE DOMAIN` or `CREATE TYPE … AS (…)`.
    pub composite: bool,
    /// What follows the name, rebuilt from the catalog: a domain's `AS base [COLLATE c]
    /// [DEFAULT e] [NOT NULL] [CONSTRAINT n CHECK (…)]…` (constraints by name), a composite
    /// type's `AS (a text, b integer)`; types as `format_type` prints them.
    pub definition: String,
}

/// A MySQL event (run on a schedule) or a PostgreSQL event trigger (run on DDL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Name.
    pub name: String,
    /// The statement that creates it, rebuilt from the catalog: MySQL's `CREATE EVENT …
    /// ON SCHEDULE … DO …` (the definer and a recurring event's start time left out: a
    /// replayed history starts its events when it runs), PostgreSQL's `CREATE EVENT TRIGGER
    /// … ON event [WHEN TAG IN (…)] EXECUTE FUNCTION f()` (tags sorted).
    pub definition: String,
    /// PostgreSQL: `DISABLE`, `ENABLE REPLICA` or `ENABLE ALWAYS` (the `ALTER EVENT TRIGGER`
    /// that follows the creation); `None` when enabled. A MySQL event's state is in its
    /// definition.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state: Option<String>,
}

/// A PostgreSQL enum type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enum {
    /// Namespace, `None` for the default.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Values in order.
    pub values: Vec<String>,
}

/// A free-standing PostgreSQL sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sequence {
    /// Namespace, `None` for the default.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Start value.
    pub start: i64,
    /// Increment.
    pub increment: i64,
}

/// A PostgreSQL extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extension {
    /// Name (`citext`, `pg_trgm`).
    pub name: String,
    /// The schema it is installed in, when not the default.
    pub namespace: Option<String>,
}

/// A PostgreSQL function or procedure, compared by its complete definition as the database
/// prints it (`pg_get_functiondef`: body, language, volatility, security, settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Function {
    /// Namespace; `None` for the current one.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// The argument types that tell it from its overloads (`integer, text`), as
    /// `pg_get_function_identity_arguments` prints them.
    pub arguments: String,
    /// A procedure (`CREATE PROCEDURE`), not a function.
    pub procedure: bool,
    /// The statement that creates it, as the database prints it (`CREATE OR REPLACE
    /// FUNCTION …`), its name unqualified when it is in the current namespace.
    pub definition: String,
}

/// Whether a trigger fires (PostgreSQL's `tgenabled`; SQLite triggers are always enabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerState {
    /// Fires (in the default `origin` replication role): `ENABLE TRIGGER`.
    Enabled,
    /// Never fires: `DISABLE TRIGGER`.
    Disabled,
    /// Fires only in the `replica` role: `ENABLE REPLICA TRIGGER`.
    Replica,
    /// Fires in every role: `ENABLE ALWAYS TRIGGER`.
    Always,
}

/// A trigger on a table, compared by its definition as the database prints it
/// (PostgreSQL `pg_get_triggerdef`, SQLite the `CREATE TRIGGER` text it stores) and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trigger {
    /// The table.
    pub table: TableId,
    /// Name.
    pub name: String,
    /// The statement that creates it.
    pub definition: String,
    /// Whether it fires.
    pub state: TriggerState,
}

/// PostgreSQL row-level security on a table (`ALTER TABLE … ENABLE` / `FORCE ROW LEVEL
/// SECURITY`); a table without an entry has neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RowSecurity {
    /// The table.
    pub table: TableId,
    /// `ENABLE ROW LEVEL SECURITY` (`relrowsecurity`).
    pub enabled: bool,
    /// `FORCE ROW LEVEL SECURITY`: the owner is subject to the policies too
    /// (`relforcerowsecurity`).
    pub forced: bool,
}

/// A PostgreSQL row-level security policy (`CREATE POLICY`), its expressions as the server
/// prints them (`pg_get_expr`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// The table.
    pub table: TableId,
    /// Name.
    pub name: String,
    /// `AS PERMISSIVE` (else `RESTRICTIVE`).
    pub permissive: bool,
    /// `FOR ALL | SELECT | INSERT | UPDATE | DELETE`.
    pub command: String,
    /// `TO …`: `PUBLIC`, or the role names quoted and sorted, comma-separated.
    pub roles: String,
    /// `USING (…)`.
    pub using: Option<String>,
    /// `WITH CHECK (…)`.
    pub with_check: Option<String>,
}

impl Schema {
    /// The row-level security of `table`: (enabled, forced).
    pub fn row_security_of(&self, table: TableId) -> (bool, bool) {
        self.row_security
            .iter()
            .find(|r| r.table == table)
            .map_or((false, false), |r| (r.enabled, r.forced))
    }
}

/// A view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    /// Namespace, `None` for the default.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Definition, as the database prints it.
    pub definition: String,
    /// Materialized (PostgreSQL).
    pub materialized: bool,
    /// PostgreSQL: the indexes of a materialized view, by name.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub indexes: Vec<ViewIndex>,
}

/// An index on a PostgreSQL materialized view (a unique one is what `REFRESH MATERIALIZED
/// VIEW CONCURRENTLY` needs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewIndex {
    /// Name (in the view's namespace).
    pub name: String,
    /// `CREATE UNIQUE INDEX`.
    pub unique: bool,
    /// The rest of the definition as `pg_get_indexdef` prints it after the view's name:
    /// `USING btree (lower(v)) WHERE (id > 0)`.
    pub definition: String,
}

impl Schema {
    /// The table `name` in `namespace`.
    pub fn table_id(&self, namespace: Option<&str>, name: &str) -> Option<TableId> {
        self.tables
            .iter()
            .position(|t| t.namespace.as_deref() == namespace && t.name == name)
            .map(|i| TableId(i as u32))
    }

    /// The table with id `id`.
    pub fn table(&self, id: TableId) -> &Table {
        &self.tables[id.idx()]
    }

    /// The column with id `id`.
    pub fn column(&self, id: ColumnId) -> &Column {
        &self.columns[id.idx()]
    }

    /// Columns of `table`, in their ordinal order.
    pub fn table_columns(&self, table: TableId) -> impl Iterator<Item = (ColumnId, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .filter(move |(_, c)| c.table == table)
            .map(|(i, c)| (ColumnId(i as u32), c))
    }

    /// The column `name` of `table`.
    pub fn column_id(&self, table: TableId, name: &str) -> Option<ColumnId> {
        self.table_columns(table)
            .find(|(_, c)| c.name == name)
            .map(|(id, _)| id)
    }

    /// Adds a table and returns its id.
    pub fn push_table(&mut self, namespace: Option<String>, name: impl Into<String>) -> TableId {
        self.tables.push(Table {
            namespace,
            name: name.into(),
            primary_key: None,
            comment: None,
            options: None,
            partition_by: None,
            partition_of: None,
            engine: None,
            collation: None,
        });
        TableId((self.tables.len() - 1) as u32)
    }

    /// Adds a column and returns its id.
    pub fn push_column(&mut self, column: Column) -> ColumnId {
        self.columns.push(column);
        ColumnId((self.columns.len() - 1) as u32)
    }

    /// `schema.table` or `table`, for messages.
    pub fn table_name(&self, id: TableId) -> String {
        let t = self.table(id);
        match &t.namespace {
            Some(ns) => format!("{ns}.{}", t.name),
            None => t.name.clone(),
        }
    }

    /// Whether the schema holds nothing.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
            && self.namespaces.is_empty()
            && self.enums.is_empty()
            && self.sequences.is_empty()
            && self.views.is_empty()
            && self.functions.is_empty()
            && self.triggers.is_empty()
            && self.policies.is_empty()
            && self.row_security.is_empty()
            && self.extensions.is_empty()
    }

    /// Builds a new column with the defaults of a plain nullable column.
    pub fn column_template(table: TableId, name: &str, data_type: &str) -> Column {
        Column {
            table,
            name: name.to_string(),
            data_type: data_type.to_string(),
            nullable: true,
            default: None,
            auto_increment: None,
            generated: None,
            collation: None,
            comment: None,
            on_update: None,
            invisible: false,
        }
    }
}

/// The dialect a schema was read from, carried beside it where needed.
pub type SchemaDialect = Dialect;

pub mod coverage;
pub mod datetime;
pub mod diff;
pub mod mermaid;
pub mod named;
pub mod plan;
pub mod render;
pub mod summary;
pub mod table_options;

#[cfg(test)]
mod tests;

impl Schema {
    /// The part of this schema in the current namespace (`namespace: None`): tables, their
    /// columns, keys, indexes and checks, foreign keys between kept tables, and enums,
    /// sequences, views and extensions of that namespace. Used when a shadow is a temporary
    /// schema inside the target database, whose other schemas must not be read as part of it.
    pub fn current_namespace_only(&self) -> Schema {
        let mut out = self.retain_tables(|t| t.namespace.is_none());
        out.namespaces.clear();
        out.enums.retain(|e| e.namespace.is_none());
        out.types.retain(|e| e.namespace.is_none());
        out.sequences.retain(|e| e.namespace.is_none());
        out.views.retain(|e| e.namespace.is_none());
        out.extensions.retain(|e| e.namespace.is_none());
        out.functions.retain(|f| f.namespace.is_none());
        out
    }

    /// This schema with only the tables `keep` accepts, and of the objects bound to tables
    /// (columns, keys, indexes, checks, foreign keys, triggers, row security, policies) only
    /// those whose tables are all kept; table ids are renumbered. The objects bound to no
    /// table (namespaces, enums, types, sequences, views, extensions, functions) are kept as they
    /// are.
    pub fn retain_tables(&self, keep: impl Fn(&Table) -> bool) -> Schema {
        let mut out = Schema {
            namespaces: self.namespaces.clone(),
            enums: self.enums.clone(),
            types: self.types.clone(),
            sequences: self.sequences.clone(),
            views: self.views.clone(),
            extensions: self.extensions.clone(),
            functions: self.functions.clone(),
            default_engine: self.default_engine.clone(),
            default_collation: self.default_collation.clone(),
            ..Schema::default()
        };
        let mut table_map: Vec<Option<TableId>> = vec![None; self.tables.len()];
        for (i, t) in self.tables.iter().enumerate() {
            if keep(t) {
                out.tables.push(Table {
                    primary_key: None,
                    ..t.clone()
                });
                table_map[i] = Some(TableId((out.tables.len() - 1) as u32));
            }
        }
        let mut col_map: Vec<Option<ColumnId>> = vec![None; self.columns.len()];
        for (i, c) in self.columns.iter().enumerate() {
            if let Some(t) = table_map[c.table.idx()] {
                out.columns.push(Column {
                    table: t,
                    ..c.clone()
                });
                col_map[i] = Some(ColumnId((out.columns.len() - 1) as u32));
            }
        }
        let cols = |ids: &[ColumnId]| -> Option<Vec<ColumnId>> {
            ids.iter().map(|c| col_map[c.idx()]).collect()
        };
        for (i, t) in self.tables.iter().enumerate() {
            if let (Some(nt), Some(pk)) = (table_map[i], &t.primary_key) {
                if let Some(columns) = cols(&pk.columns) {
                    out.tables[nt.idx()].primary_key = Some(PrimaryKey {
                        name: pk.name.clone(),
                        columns,
                    });
                }
            }
        }
        for ix in &self.indexes {
            let Some(t) = table_map[ix.table.idx()] else {
                continue;
            };
            let parts: Option<Vec<IndexColumn>> = ix
                .columns
                .iter()
                .map(|c| match &c.part {
                    IndexPart::Column(id) => col_map[id.idx()].map(|n| IndexColumn {
                        part: IndexPart::Column(n),
                        ..c.clone()
                    }),
                    IndexPart::Expression(_) => Some(c.clone()),
                })
                .collect();
            if let (Some(columns), Some(include)) = (parts, cols(&ix.include)) {
                out.indexes.push(Index {
                    table: t,
                    columns,
                    include,
                    ..ix.clone()
                });
            }
        }
        for fk in &self.foreign_keys {
            if let (Some(t), Some(rt), Some(c), Some(rc)) = (
                table_map[fk.table.idx()],
                table_map[fk.referenced_table.idx()],
                cols(&fk.columns),
                cols(&fk.referenced_columns),
            ) {
                out.foreign_keys.push(ForeignKey {
                    table: t,
                    referenced_table: rt,
                    columns: c,
                    referenced_columns: rc,
                    ..fk.clone()
                });
            }
        }
        for ck in &self.checks {
            if let Some(t) = table_map[ck.table.idx()] {
                out.checks.push(Check {
                    table: t,
                    ..ck.clone()
                });
            }
        }
        for tr in &self.triggers {
            if let Some(t) = table_map[tr.table.idx()] {
                out.triggers.push(Trigger {
                    table: t,
                    ..tr.clone()
                });
            }
        }
        for r in &self.row_security {
            if let Some(t) = table_map[r.table.idx()] {
                out.row_security.push(RowSecurity { table: t, ..*r });
            }
        }
        for p in &self.policies {
            if let Some(t) = table_map[p.table.idx()] {
                out.policies.push(Policy {
                    table: t,
                    ..p.clone()
                });
            }
        }
        out
    }
}
