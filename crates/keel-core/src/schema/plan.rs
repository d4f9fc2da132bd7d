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
    /// Functions before the defaults and triggers that call them (a body is not checked
    /// against tables at creation, except a SQL-language one).
    CreateFunction { to: usize },
    /// A function whose definition changed: `CREATE OR REPLACE`.
    ReplaceFunction { from: usize, to: usize },
    /// Triggers before their tables and functions are dropped.
    DropTrigger { from: usize },
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
    /// Functions after the triggers and defaults that called them are gone, before the
    /// types their signatures use.
    DropFunction { from: usize },
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
            Change::CreateFunction { .. } => 4,
            Change::ReplaceFunction { .. } => 5,
            Change::DropTrigger { .. } => 6,
            Change::DropPolicy { .. } => 7,
            Change::DropView { .. } => 8,
            Change::DropForeignKey { .. } => 9,
            Change::DropIndex { .. } => 10,
            Change::DropViewIndex { .. } => 11,
            Change::DropCheck { .. } => 12,
            Change::DropPrimaryKey { .. } => 13,
            Change::DetachPartition { .. } => 14,
            Change::DropTable { .. } => 15,
            Change::Repartition { .. } => 16,
            Change::CreateTable { .. } => 17,
            Change::RedefineTable { .. } => 18,
            Change::AddColumn { .. } => 19,
            Change::AlterColumn { .. } => 20,
            Change::DropColumn { .. } => 21,
            Change::AddPrimaryKey { .. } => 22,
            Change::CreateIndex { .. } => 23,
            Change::AttachPartition { .. } => 24,
            Change::AddForeignKey { .. } => 25,
            Change::AddCheck { .. } => 26,
            Change::ValidateForeignKey { .. } => 27,
            Change::ValidateCheck { .. } => 28,
            Change::AlterTableComment { .. } => 29,
            Change::AlterTableOptions { .. } => 30,
            Change::AlterRowSecurity { .. } => 31,
            Change::CreateView { .. } => 32,
            Change::CreateViewIndex { .. } => 33,
            Change::CreateTrigger { .. } => 34,
            Change::AlterTrigger { .. } => 35,
            Change::CreatePolicy { .. } => 36,
            Change::DropFunction { .. } => 37,
            Change::DropEnum { .. } => 38,
            Change::DropSequence { .. } => 39,
            Change::DropExtension { .. } => 40,
            Change::DropNamespace { .. } => 41,
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
            Change::CreateFunction { .. } => "create_function",
            Change::ReplaceFunction { .. } => "replace_function",
            Change::DropTrigger { .. } => "drop_trigger",
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
            Change::DropFunction { .. } => "drop_function",
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
