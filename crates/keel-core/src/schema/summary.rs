//! Readable summaries of a plan: one line per change, e.g. "added column `users.phone`
//! (text, nullable)".

use super::plan::{Change, Plan};
use super::{table_options, Column, Schema};

fn describe_column(c: &Column) -> String {
    let mut parts = vec![c.data_type.clone()];
    parts.push(if c.nullable {
        "nullable".into()
    } else {
        "not null".into()
    });
    if let Some(d) = &c.default {
        parts.push(format!("default {d}"));
    }
    parts.join(", ")
}

fn col_name(s: &Schema, c: &Column) -> String {
    format!("{}.{}", s.table_name(c.table), c.name)
}

/// `function `app.f(integer)`` / `procedure `p()``.
fn function_name(f: &super::Function) -> String {
    format!(
        "{} `{}{}({})`",
        if f.procedure { "procedure" } else { "function" },
        f.namespace
            .as_deref()
            .map(|n| format!("{n}."))
            .unwrap_or_default(),
        f.name,
        f.arguments
    )
}

/// A trigger's state in words.
fn trigger_state(s: super::TriggerState) -> &'static str {
    match s {
        super::TriggerState::Enabled => "enabled",
        super::TriggerState::Disabled => "disabled",
        super::TriggerState::Replica => "enabled for replicas only",
        super::TriggerState::Always => "enabled always (also for replicas)",
    }
}

/// What an INVALID index is, after its name.
const INVALID: &str = " (a CREATE INDEX CONCURRENTLY that failed or was cancelled left it: queries do not use it; drop it with DROP INDEX CONCURRENTLY and build it again)";

/// One line per change, in plan order.
pub fn summarize(plan: &Plan) -> Vec<String> {
    let (from, to) = (&plan.from, &plan.to);
    plan.changes
        .iter()
        .map(|c| match c {
            Change::CreateNamespace { to: i } => format!("added schema `{}`", to.namespaces[*i]),
            Change::DropNamespace { from: i } => {
                format!("dropped schema `{}`", from.namespaces[*i])
            }
            Change::CreateExtension { to: i } => {
                format!("added extension `{}`", to.extensions[*i].name)
            }
            Change::DropExtension { from: i } => {
                format!("dropped extension `{}`", from.extensions[*i].name)
            }
            Change::CreateEnum { to: i } => format!(
                "added enum `{}` ({})",
                to.enums[*i].name,
                to.enums[*i].values.join(", ")
            ),
            Change::AlterEnum {
                to: i,
                added,
                removed,
                ..
            } => {
                let mut s = format!("changed enum `{}`", to.enums[*i].name);
                if !added.is_empty() {
                    s.push_str(&format!(": added {}", added.join(", ")));
                }
                if !removed.is_empty() {
                    s.push_str(&format!("; removed {}", removed.join(", ")));
                }
                s
            }
            Change::DropEnum { from: i } => format!("dropped enum `{}`", from.enums[*i].name),
            Change::CreateSequence { to: i } => {
                format!("added sequence `{}`", to.sequences[*i].name)
            }
            Change::DropSequence { from: i } => {
                format!("dropped sequence `{}`", from.sequences[*i].name)
            }
            Change::CreateView { to: i } => format!("added view `{}`", to.views[*i].name),
            Change::DropView { from: i } => format!("dropped view `{}`", from.views[*i].name),
            Change::CreateEvent { to: i } => format!(
                "added {} `{}`",
                event_kind(plan.dialect),
                to.events[*i].name
            ),
            Change::DropEvent { from: i } => format!(
                "dropped {} `{}`",
                event_kind(plan.dialect),
                from.events[*i].name
            ),
            Change::CreateType { to: i } => format!(
                "added {} `{}` {}",
                type_kind(&to.types[*i]),
                to.types[*i].name,
                to.types[*i].definition
            ),
            Change::AlterType { from: f, to: i } => format!(
                "changed {} `{}`: {} -> {}",
                type_kind(&to.types[*i]),
                to.types[*i].name,
                from.types[*f].definition,
                to.types[*i].definition
            ),
            Change::DropType { from: i } => format!(
                "dropped {} `{}`",
                type_kind(&from.types[*i]),
                from.types[*i].name
            ),
            Change::CreateViewIndex { view, index } => format!(
                "added index `{}` on materialized view `{}`",
                to.views[*view].indexes[*index].name, to.views[*view].name
            ),
            Change::DropViewIndex { view, index } => format!(
                "dropped index `{}` on materialized view `{}`",
                from.views[*view].indexes[*index].name, from.views[*view].name
            ),
            Change::CreateTable { table } => format!(
                "added table `{}` ({} columns)",
                to.table_name(*table),
                to.table_columns(*table).count()
            ),
            Change::DropTable { table } => format!("dropped table `{}`", from.table_name(*table)),
            Change::RedefineTable { to: t, .. } => format!(
                "redefined table `{}` (copy, drop, rename)",
                to.table_name(*t)
            ),
            Change::AddColumn { column } => {
                let c = to.column(*column);
                format!(
                    "added column `{}` ({})",
                    col_name(to, c),
                    describe_column(c)
                )
            }
            Change::DropColumn { column } => {
                format!("dropped column `{}`", col_name(from, from.column(*column)))
            }
            Change::AlterColumn {
                from: f,
                to: t,
                changes,
            } => {
                let (a, b) = (from.column(*f), to.column(*t));
                let mut what = Vec::new();
                if changes.data_type {
                    what.push(format!("type {} → {}", a.data_type, b.data_type));
                }
                if changes.nullable {
                    what.push(if b.nullable {
                        "now nullable".into()
                    } else {
                        "now not null".into()
                    });
                }
                if changes.default {
                    what.push(format!(
                        "default {} → {}",
                        a.default.as_deref().unwrap_or("none"),
                        b.default.as_deref().unwrap_or("none")
                    ));
                }
                if changes.auto_increment {
                    what.push("auto-increment changed".into());
                }
                if changes.generated {
                    what.push("generated expression changed".into());
                }
                if changes.collation {
                    what.push("collation changed".into());
                }
                if changes.comment {
                    what.push("comment changed".into());
                }
                if changes.mysql_options {
                    what.push(format!(
                        "ON UPDATE {} → {}{}",
                        a.on_update.as_deref().unwrap_or("none"),
                        b.on_update.as_deref().unwrap_or("none"),
                        if a.invisible != b.invisible {
                            if b.invisible {
                                ", now INVISIBLE"
                            } else {
                                ", now visible"
                            }
                        } else {
                            ""
                        }
                    ));
                }
                format!("changed column `{}`: {}", col_name(to, b), what.join(", "))
            }
            Change::DropPrimaryKey { table } => {
                format!("dropped the primary key of `{}`", from.table_name(*table))
            }
            Change::AddPrimaryKey { table } => {
                let cols: Vec<String> = to
                    .table(*table)
                    .primary_key
                    .as_ref()
                    .map(|p| super::diff::column_names(to, &p.columns))
                    .unwrap_or_default();
                format!(
                    "added primary key on `{}` ({})",
                    to.table_name(*table),
                    cols.join(", ")
                )
            }
            Change::CreateIndex { to: i } => {
                let ix = &to.indexes[*i];
                format!(
                    "added {}{}index `{}` on `{}`{}",
                    if ix.invalid { "INVALID " } else { "" },
                    if ix.unique { "unique " } else { "" },
                    ix.name,
                    to.table_name(ix.table),
                    if ix.invalid { INVALID } else { "" }
                )
            }
            Change::DropIndex { from: i } => {
                let ix = &from.indexes[*i];
                if ix.invalid {
                    format!("dropped INVALID index `{}`{INVALID}", ix.name)
                } else {
                    format!("dropped index `{}`", ix.name)
                }
            }
            Change::AddForeignKey { to: i } => {
                let fk = &to.foreign_keys[*i];
                format!(
                    "added foreign key `{}` ({}) → `{}`",
                    to.table_name(fk.table),
                    super::diff::column_names(to, &fk.columns).join(", "),
                    to.table_name(fk.referenced_table)
                )
            }
            Change::DropForeignKey { from: i } => {
                let fk = &from.foreign_keys[*i];
                format!(
                    "dropped foreign key `{}` on `{}`",
                    fk.name.as_deref().unwrap_or("(unnamed)"),
                    from.table_name(fk.table)
                )
            }
            Change::AddCheck { to: i } => format!(
                "added {} on `{}`: {}",
                check_kind(&to.checks[*i]),
                to.table_name(to.checks[*i].table),
                to.checks[*i].expression
            ),
            Change::DropCheck { from: i } => format!(
                "dropped {} on `{}`: {}",
                check_kind(&from.checks[*i]),
                from.table_name(from.checks[*i].table),
                from.checks[*i].expression
            ),
            Change::AlterTableComment { to: t, .. } => {
                format!("changed the comment of `{}`", to.table_name(*t))
            }
            Change::AlterTableOptions { from: f, to: t } => {
                let (was, now) = (from.table(*f), to.table(*t));
                let d = table_options::differs(from, was, to, now);
                let show = |v: Option<&str>| v.unwrap_or("the default").to_string();
                let mut parts = Vec::new();
                if d.engine {
                    parts.push(format!(
                        "engine {} -> {}",
                        show(table_options::engine(from, to, was)),
                        show(table_options::engine(to, from, now))
                    ));
                }
                if d.collation {
                    parts.push(format!(
                        "collation {} -> {}",
                        show(table_options::collation(from, to, was)),
                        show(table_options::collation(to, from, now))
                    ));
                }
                format!(
                    "changed the table options of `{}`: {}",
                    to.table_name(*t),
                    parts.join(", ")
                )
            }
            Change::ValidateForeignKey { to: i } => {
                let fk = &to.foreign_keys[*i];
                format!(
                    "validated foreign key `{}` on `{}` (was NOT VALID)",
                    fk.name.as_deref().unwrap_or("(unnamed)"),
                    to.table_name(fk.table)
                )
            }
            Change::ValidateCheck { to: i } => format!(
                "validated check on `{}` (was NOT VALID): {}",
                to.table_name(to.checks[*i].table),
                to.checks[*i].expression
            ),
            Change::AttachPartition { table } => {
                let t = to.table(*table);
                let bound = t
                    .partition_of
                    .as_ref()
                    .map(|p| p.bound.as_str())
                    .unwrap_or("");
                format!(
                    "attached partition `{}` to `{}` ({bound})",
                    to.table_name(*table),
                    t.partition_of
                        .as_ref()
                        .map(partition_parent)
                        .unwrap_or_default()
                )
            }
            Change::DetachPartition { table } => format!(
                "detached partition `{}` from `{}`",
                from.table_name(*table),
                from.table(*table)
                    .partition_of
                    .as_ref()
                    .map(partition_parent)
                    .unwrap_or_default()
            ),
            Change::Repartition { to: table, .. } => format!(
                "changed the partitioning of `{}` to {}",
                to.table_name(*table),
                to.table(*table).partition_by.as_deref().unwrap_or("none")
            ),
            Change::AlterRowSecurity { table } => {
                let (enabled, forced) = to.row_security_of(*table);
                format!(
                    "row-level security of `{}` is now {}{}",
                    to.table_name(*table),
                    if enabled { "enabled" } else { "disabled" },
                    if forced {
                        ", forced on the owner too"
                    } else {
                        ""
                    }
                )
            }
            Change::CreatePolicy { to: i } => {
                let p = &to.policies[*i];
                format!(
                    "added policy `{}` on `{}` ({} {} to {})",
                    p.name,
                    to.table_name(p.table),
                    if p.permissive {
                        "permissive"
                    } else {
                        "restrictive"
                    },
                    p.command,
                    p.roles
                )
            }
            Change::DropPolicy { from: i } => {
                let p = &from.policies[*i];
                format!(
                    "dropped policy `{}` on `{}`",
                    p.name,
                    from.table_name(p.table)
                )
            }
            Change::CreateFunction { to: i } => {
                format!("added {}", function_name(&to.functions[*i]))
            }
            Change::ReplaceFunction { to: i, .. } => {
                format!(
                    "replaced the definition of {}",
                    function_name(&to.functions[*i])
                )
            }
            Change::DropFunction { from: i } => {
                format!("dropped {}", function_name(&from.functions[*i]))
            }
            Change::CreateTrigger { to: i } => {
                let tr = &to.triggers[*i];
                format!(
                    "added trigger `{}` on `{}`{}",
                    tr.name,
                    to.table_name(tr.table),
                    if tr.state == super::TriggerState::Enabled {
                        String::new()
                    } else {
                        format!(" ({})", trigger_state(tr.state))
                    }
                )
            }
            Change::DropTrigger { from: i } => {
                let tr = &from.triggers[*i];
                format!(
                    "dropped trigger `{}` on `{}`",
                    tr.name,
                    from.table_name(tr.table)
                )
            }
            Change::AlterTrigger { from: f, to: i } => {
                let tr = &to.triggers[*i];
                format!(
                    "trigger `{}` on `{}` is now {} (was {})",
                    tr.name,
                    to.table_name(tr.table),
                    trigger_state(tr.state),
                    trigger_state(from.triggers[*f].state)
                )
            }
        })
        .collect()
}

/// A partition's parent as summaries name tables (`ns.name` outside the current schema).
fn partition_parent(p: &super::PartitionOf) -> String {
    match &p.namespace {
        Some(ns) => format!("{ns}.{}", p.table),
        None => p.table.clone(),
    }
}

/// What a summary calls a check: `check`, or `exclusion constraint \`name\``.
fn check_kind(c: &super::Check) -> String {
    if c.is_exclusion() {
        format!("exclusion constraint `{}`", c.name.as_deref().unwrap_or(""))
    } else {
        "check".into()
    }
}

/// What a summary calls a user type: `domain` or `composite type`.
fn type_kind(t: &super::UserType) -> &'static str {
    if t.composite {
        "composite type"
    } else {
        "domain"
    }
}

/// What a summary calls an event: `event` (MySQL) or `event trigger` (PostgreSQL).
fn event_kind(d: crate::Dialect) -> &'static str {
    if d == crate::Dialect::Postgres {
        "event trigger"
    } else {
        "event"
    }
}
