//! Plans: ordered lists of typed changes from one schema to another (STYLE.md habit 2).

use super::{ColumnId, Schema, TableId};
use crate::Dialect;
use serde::Serialize;

/// What changes in a column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ColumnChanges {
    /// The type changes.
    pub data_type: bool,
    /// Nullability changes.
    pub nullable: bool,
    /// The default changes.
    pub default: bool,
    /// Auto-increment / identity changes.
    pub auto_increment: bool,
    /// The generated expression changes.
    pub generated: bool,
    /// The collation changes.
    pub collation: bool,
    /// The comment changes.
    pub comment: bool,
    /// MySQL's `ON UPDATE` or `INVISIBLE` changes.
    pub mysql_options: bool,
}

impl ColumnChanges {
    /// Whether anything changes.
    pub fn any(&self) -> bool {
        self.data_type
            || self.nullable
            || self.default
            || self.auto_increment
            || self.generated
            || self.collation
            || self.comment
            || self.mysql_options
    }
}

/// One plan item. Ids with `from` refer to [`Plan::from`], with `to` to [`Plan::to`].
///
/// Variants are declared in execution order, and [`Change::rank`] follows the declaration
/// except for the partition changes (a detach ranks before the drops, an attach after the
/// index creations): sorting a plan by rank (stable) gives a valid order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Namespaces before anything is created in them.
    CreateNamespace { to: usize },
    /// Extensions first: types and functions of later changes may come from them.
    CreateExtension { to: usize },
    /// Enums before the columns that use them.
    CreateEnum { to: usize },
    /// New enum values before columns use them.
    AlterEnum {
        from: usize,
        to: usize,
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// Sequences before the defaults that call them.
    CreateSequence { to: usize },
    /// PostgreSQL domains and composite types before the functions and columns that use
    /// them (after the enums they may be built on).
    CreateType { to: usize },
    /// A domain or composite type whose definition changed. No statement does it in general
    /// (`ALTER DOMAIN` and `ALTER TYPE` each change one part); the renderer refuses it.
    AlterType { from: usize, to: usize },
    /// Functions before the defaults and triggers that call them (a body is not checked
    /// against tables at creation, except a SQL-language one).
    CreateFunction { to: usize },
    /// A function whose definition changed: `CREATE OR REPLACE`.
    ReplaceFunction { from: usize, to: usize },
    /// Triggers before their tables and functions are dropped.
    DropTrigger { from: usize },
    /// MySQL events and PostgreSQL event triggers before the functions and tables they use
    /// are dropped (a changed one is dropped and created again).
    DropEvent { from: usize },
    /// Policies before the columns and functions their expressions use.
    DropPolicy { from: usize },
    /// Views before the tables and columns they read are dropped or changed.
    DropView { from: usize },
    /// Foreign keys before the tables and columns they point to.
    DropForeignKey { from: usize },
    /// Indexes before their columns.
    DropIndex { from: usize },
    /// PostgreSQL: index `index` of materialized view `view` of [`Plan::from`] (a view
    /// that stays; a dropped view takes its indexes with it).
    DropViewIndex { view: usize, index: usize },
    /// Checks before their columns.
    DropCheck { from: usize },
    /// The primary key before its columns change.
    DropPrimaryKey { table: TableId },
    /// Tables whose foreign keys are already gone.
    DropTable { table: TableId },
    /// New tables (SQLite: with their foreign keys inline).
    CreateTable { table: TableId },
    /// SQLite: rebuild a table that cannot be altered in place (Prisma's "RedefineTables").
    RedefineTable { from: TableId, to: TableId },
    /// New columns.
    AddColumn { column: ColumnId },
    /// Changed columns.
    AlterColumn {
        from: ColumnId,
        to: ColumnId,
        changes: ColumnChanges,
    },
    /// Dropped columns, after their indexes and keys.
    DropColumn { column: ColumnId },
    /// The new primary key, after its columns exist.
    AddPrimaryKey { table: TableId },
    /// PostgreSQL: a table of [`Plan::from`] detached from its partitioned parent, before
    /// either is dropped or the table is attached elsewhere.
    DetachPartition { table: TableId },
    /// PostgreSQL: a table of [`Plan::to`] attached to its partitioned parent, once both
    /// exist with their indexes (attaching creates the parent's indexes on it).
    AttachPartition { table: TableId },
    /// PostgreSQL: a table whose partition key changes (or that becomes partitioned, or stops
    /// being so). No statement does it in place; the renderer refuses it.
    Repartition { from: TableId, to: TableId },
    /// Indexes after their columns.
    CreateIndex { to: usize },
    /// Foreign keys after the tables, columns and unique indexes they need.
    AddForeignKey { to: usize },
    /// Checks after their columns.
    AddCheck { to: usize },
    /// A `NOT VALID` foreign key validated (`VALIDATE CONSTRAINT`: the rows are checked under a
    /// lock that lets reads and writes through).
    ValidateForeignKey { to: usize },
    /// A `NOT VALID` check validated.
    ValidateCheck { to: usize },
    /// Comments on tables.
    AlterTableComment { from: TableId, to: TableId },
    /// MySQL/MariaDB: a table's storage engine or default collation changed (see
    /// [`crate::schema::table_options`]); after its columns, whose collations a conversion
    /// rewrites.
    AlterTableOptions { from: TableId, to: TableId },
    /// Row-level security of a table of [`Plan::to`] set to what it has there (enabled or
    /// not, forced or not).
    AlterRowSecurity { table: TableId },
    /// Views after the tables they read.
    CreateView { to: usize },
    /// PostgreSQL: index `index` of materialized view `view` of [`Plan::to`], once the
    /// view exists.
    CreateViewIndex { view: usize, index: usize },
    /// Triggers after their tables and functions.
    CreateTrigger { to: usize },
    /// A trigger enabled or disabled.
    AlterTrigger { from: usize, to: usize },
    /// Policies after their tables, columns and functions.
    CreatePolicy { to: usize },
    /// Events and event triggers once everything they call exists.
    CreateEvent { to: usize },
    /// Functions after the triggers and defaults that called them are gone, before the
    /// types their signatures use.
    DropFunction { from: usize },
    /// Domains and composite types after the columns and functions that used them are
    /// gone, before the enums they are built on.
    DropType { from: usize },
    /// Enums after the columns that used them are gone.
    DropEnum { from: usize },
    /// Sequences after the defaults that used them are gone.
    DropSequence { from: usize },
    /// Extensions last.
    DropExtension { from: usize },
    /// Namespaces once emptied.
    DropNamespace { from: usize },
}

impl Change {
    /// Position in the execution order (the variant's declaration order).
    pub fn rank(&self) -> u8 {
        match self {
            Change::CreateNamespace { .. } => 0,
            Change::CreateExtension { .. } => 0,
            Change::CreateEnum { .. } => 1,
            Change::AlterEnum { .. } => 2,
            Change::CreateSequence { .. } => 3,
            Change::CreateType { .. } => 4,
            Change::AlterType { .. } => 5,
            Change::CreateFunction { .. } => 6,
            Change::ReplaceFunction { .. } => 7,
            Change::DropTrigger { .. } => 8,
            Change::DropEvent { .. } => 9,
            Change::DropPolicy { .. } => 10,
            Change::DropView { .. } => 11,
            Change::DropForeignKey { .. } => 12,
            Change::DropIndex { .. } => 13,
            Change::DropViewIndex { .. } => 14,
            Change::DropCheck { .. } => 15,
            Change::DropPrimaryKey { .. } => 16,
            Change::DetachPartition { .. } => 17,
            Change::DropTable { .. } => 18,
            Change::Repartition { .. } => 19,
            Change::CreateTable { .. } => 20,
            Change::RedefineTable { .. } => 21,
            Change::AddColumn { .. } => 22,
            Change::AlterColumn { .. } => 23,
            Change::DropColumn { .. } => 24,
            Change::AddPrimaryKey { .. } => 25,
            Change::CreateIndex { .. } => 26,
            Change::AttachPartition { .. } => 27,
            Change::AddForeignKey { .. } => 28,
            Change::AddCheck { .. } => 29,
            Change::ValidateForeignKey { .. } => 30,
            Change::ValidateCheck { .. } => 31,
            Change::AlterTableComment { .. } => 32,
            Change::AlterTableOptions { .. } => 33,
            Change::AlterRowSecurity { .. } => 34,
            Change::CreateView { .. } => 35,
            Change::CreateViewIndex { .. } => 36,
            Change::CreateTrigger { .. } => 37,
            Change::AlterTrigger { .. } => 38,
            Change::CreatePolicy { .. } => 39,
            Change::CreateEvent { .. } => 40,
            Change::DropFunction { .. } => 41,
            Change::DropType { .. } => 42,
            Change::DropEnum { .. } => 43,
            Change::DropSequence { .. } => 44,
            Change::DropExtension { .. } => 45,
            Change::DropNamespace { .. } => 46,
        }
    }

    /// The change's name as JSON spells it (its serde tag): `"add_column"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::CreateNamespace { .. } => "create_namespace",
            Change::CreateExtension { .. } => "create_extension",
            Change::CreateEnum { .. } => "create_enum",
            Change::AlterEnum { .. } => "alter_enum",
            Change::CreateSequence { .. } => "create_sequence",
            Change::CreateType { .. } => "create_type",
            Change::AlterType { .. } => "alter_type",
            Change::CreateFunction { .. } => "create_function",
            Change::ReplaceFunction { .. } => "replace_function",
            Change::DropTrigger { .. } => "drop_trigger",
            Change::DropEvent { .. } => "drop_event",
            Change::DropPolicy { .. } => "drop_policy",
            Change::DropView { .. } => "drop_view",
            Change::DropForeignKey { .. } => "drop_foreign_key",
            Change::DropIndex { .. } => "drop_index",
            Change::DropViewIndex { .. } => "drop_view_index",
            Change::DropCheck { .. } => "drop_check",
            Change::DropPrimaryKey { .. } => "drop_primary_key",
            Change::DropTable { .. } => "drop_table",
            Change::CreateTable { .. } => "create_table",
            Change::RedefineTable { .. } => "redefine_table",
            Change::AddColumn { .. } => "add_column",
            Change::AlterColumn { .. } => "alter_column",
            Change::DropColumn { .. } => "drop_column",
            Change::AddPrimaryKey { .. } => "add_primary_key",
            Change::DetachPartition { .. } => "detach_partition",
            Change::AttachPartition { .. } => "attach_partition",
            Change::Repartition { .. } => "repartition",
            Change::CreateIndex { .. } => "create_index",
            Change::AddForeignKey { .. } => "add_foreign_key",
            Change::AddCheck { .. } => "add_check",
            Change::ValidateForeignKey { .. } => "validate_foreign_key",
            Change::ValidateCheck { .. } => "validate_check",
            Change::AlterTableComment { .. } => "alter_table_comment",
            Change::AlterTableOptions { .. } => "alter_table_options",
            Change::AlterRowSecurity { .. } => "alter_row_security",
            Change::CreateView { .. } => "create_view",
            Change::CreateViewIndex { .. } => "create_view_index",
            Change::CreateTrigger { .. } => "create_trigger",
            Change::AlterTrigger { .. } => "alter_trigger",
            Change::CreatePolicy { .. } => "create_policy",
            Change::CreateEvent { .. } => "create_event",
            Change::DropFunction { .. } => "drop_function",
            Change::DropType { .. } => "drop_type",
            Change::DropEnum { .. } => "drop_enum",
            Change::DropSequence { .. } => "drop_sequence",
            Change::DropExtension { .. } => "drop_extension",
            Change::DropNamespace { .. } => "drop_namespace",
        }
    }
}

/// An ordered list of changes that turns `from` into `to`.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The dialect the plan is for.
    #[serde(skip)]
    pub dialect: Dialect,
    /// The schema before.
    #[serde(skip)]
    pub from: Schema,
    /// The schema after.
    #[serde(skip)]
    pub to: Schema,
    /// The changes, in execution order.
    pub changes: Vec<Change>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}
