//! Plan changes as scripts and JSON read them: each with the names of its objects, its SQL and
//! its summary sentence, instead of [`Change`]'s indexes into the two schemas.

use super::plan::{Change, Plan};
use super::{Schema, TableId};
use serde::Serialize;

/// One change of a plan with its objects named (the `changes` array of `keel diff --json`,
/// `keel plan --json` and the drift report).
///
/// The object fields are present only where the change has one: `schema` (the table's or
/// object's PostgreSQL schema, when it has one), `table`, `column`, `index`, `constraint`
/// (a primary key, foreign key or check constraint; `null` when it has no name), and `object`
/// for an enum, sequence, view, extension, schema, function, trigger or policy (a trigger or
/// policy also has its `table`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedChange {
    /// The kind, snake_case: `create_table`, `add_column`, `drop_index`, … (the names of
    /// [`Change`]'s variants).
    pub change: String,
    /// The schema (namespace) of the table or object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// The constraint's name; `Some(None)` (JSON `null`) for one the database names itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<Option<String>>,
    /// The enum, sequence, view, extension or schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The statements that carry the change out, without their `;` (empty when this
    /// database cannot express it: `error` says why).
    pub sql: Vec<String>,
    /// Why there is no SQL: the change cannot be expressed on this database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The summary sentence (`added column `users.phone` (text, nullable)`).
    pub summary: String,
}

/// The changes of `plan`, in plan order, named, each with its SQL and summary. Never panics;
/// a change the dialect cannot express gets an `error` and no SQL.
pub fn named_changes(plan: &Plan) -> Vec<NamedChange> {
    let summaries = super::summary::summarize(plan);
    plan.changes
        .iter()
        .zip(summaries)
        .map(|(c, summary)| {
            let (sql, error) = match super::render::render_change(plan, c) {
                Ok(sql) => (sql, None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            };
            let mut n = NamedChange {
                change: c.kind().to_string(),
                schema: None,
                table: None,
                column: None,
                index: None,
                constraint: None,
                object: None,
                sql,
                error,
                summary,
            };
            objects(plan, c, &mut n);
            n
        })
        .collect()
}

fn table(n: &mut NamedChange, s: &Schema, id: TableId) {
    let t = s.table(id);
    n.schema = t.namespace.clone();
    n.table = Some(t.name.clone());
}

fn object(n: &mut NamedChange, namespace: &Option<String>, name: &str) {
    n.schema = namespace.clone();
    n.object = Some(name.to_string());
}

fn objects(plan: &Plan, c: &Change, n: &mut NamedChange) {
    let (from, to) = (&plan.from, &plan.to);
    match c {
        Change::CreateNamespace { to: i } => n.object = Some(to.namespaces[*i].clone()),
        Change::DropNamespace { from: i } => n.object = Some(from.namespaces[*i].clone()),
        Change::CreateExtension { to: i } => {
            object(n, &to.extensions[*i].namespace, &to.extensions[*i].name)
        }
        Change::DropExtension { from: i } => {
            object(n, &from.extensions[*i].namespace, &from.extensions[*i].name)
        }
        Change::CreateEnum { to: i } | Change::AlterEnum { to: i, .. } => {
            object(n, &to.enums[*i].namespace, &to.enums[*i].name)
        }
        Change::DropEnum { from: i } => object(n, &from.enums[*i].namespace, &from.enums[*i].name),
        Change::CreateType { to: i } | Change::AlterType { to: i, .. } => {
            object(n, &to.types[*i].namespace, &to.types[*i].name)
        }
        Change::CreateEvent { to: i } => n.object = Some(to.events[*i].name.clone()),
        Change::DropEvent { from: i } => n.object = Some(from.events[*i].name.clone()),
        Change::DropType { from: i } => object(n, &from.types[*i].namespace, &from.types[*i].name),
        Change::CreateSequence { to: i } => {
            object(n, &to.sequences[*i].namespace, &to.sequences[*i].name)
        }
        Change::DropSequence { from: i } => {
            object(n, &from.sequences[*i].namespace, &from.sequences[*i].name)
        }
        Change::CreateView { to: i } => object(n, &to.views[*i].namespace, &to.views[*i].name),
        Change::DropView { from: i } => object(n, &from.views[*i].namespace, &from.views[*i].name),
        Change::CreateViewIndex { view, index } => {
            let v = &to.views[*view];
            object(n, &v.namespace, &v.name);
            n.index = Some(v.indexes[*index].name.clone());
        }
        Change::DropViewIndex { view, index } => {
            let v = &from.views[*view];
            object(n, &v.namespace, &v.name);
            n.index = Some(v.indexes[*index].name.clone());
        }
        Change::DropTable { table: t } => table(n, from, *t),
        Change::CreateTable { table: t }
        | Change::RedefineTable { to: t, .. }
        | Change::AlterTableComment { to: t, .. }
        | Change::AlterTableOptions { to: t, .. } => table(n, to, *t),
        Change::AddColumn { column } => {
            let col = to.column(*column);
            table(n, to, col.table);
            n.column = Some(col.name.clone());
        }
        Change::DropColumn { column } => {
            let col = from.column(*column);
            table(n, from, col.table);
            n.column = Some(col.name.clone());
        }
        Change::AlterColumn { to: id, .. } => {
            let col = to.column(*id);
            table(n, to, col.table);
            n.column = Some(col.name.clone());
        }
        Change::DropPrimaryKey { table: t } => {
            table(n, from, *t);
            n.constraint = Some(
                from.table(*t)
                    .primary_key
                    .as_ref()
                    .and_then(|p| p.name.clone()),
            );
        }
        Change::AddPrimaryKey { table: t } => {
            table(n, to, *t);
            n.constraint = Some(
                to.table(*t)
                    .primary_key
                    .as_ref()
                    .and_then(|p| p.name.clone()),
            );
        }
        Change::CreateIndex { to: i } => {
            table(n, to, to.indexes[*i].table);
            n.index = Some(to.indexes[*i].name.clone());
        }
        Change::DropIndex { from: i } => {
            table(n, from, from.indexes[*i].table);
            n.index = Some(from.indexes[*i].name.clone());
        }
        Change::AddForeignKey { to: i } => {
            table(n, to, to.foreign_keys[*i].table);
            n.constraint = Some(to.foreign_keys[*i].name.clone());
        }
        Change::DropForeignKey { from: i } => {
            table(n, from, from.foreign_keys[*i].table);
            n.constraint = Some(from.foreign_keys[*i].name.clone());
        }
        Change::AddCheck { to: i } => {
            table(n, to, to.checks[*i].table);
            n.constraint = Some(to.checks[*i].name.clone());
        }
        Change::DropCheck { from: i } => {
            table(n, from, from.checks[*i].table);
            n.constraint = Some(from.checks[*i].name.clone());
        }
        Change::CreateFunction { to: i } | Change::ReplaceFunction { to: i, .. } => {
            object(n, &to.functions[*i].namespace, &to.functions[*i].name)
        }
        Change::DropFunction { from: i } => {
            object(n, &from.functions[*i].namespace, &from.functions[*i].name)
        }
        Change::CreateTrigger { to: i } | Change::AlterTrigger { to: i, .. } => {
            table(n, to, to.triggers[*i].table);
            n.object = Some(to.triggers[*i].name.clone());
        }
        Change::DropTrigger { from: i } => {
            table(n, from, from.triggers[*i].table);
            n.object = Some(from.triggers[*i].name.clone());
        }
        Change::AlterRowSecurity { table: t }
        | Change::AttachPartition { table: t }
        | Change::Repartition { to: t, .. } => table(n, to, *t),
        Change::DetachPartition { table: t } => table(n, from, *t),
        Change::ValidateForeignKey { to: i } => {
            table(n, to, to.foreign_keys[*i].table);
            n.constraint = Some(to.foreign_keys[*i].name.clone());
        }
        Change::ValidateCheck { to: i } => {
            table(n, to, to.checks[*i].table);
            n.constraint = Some(to.checks[*i].name.clone());
        }
        Change::CreatePolicy { to: i } => {
            table(n, to, to.policies[*i].table);
            n.object = Some(to.policies[*i].name.clone());
        }
        Change::DropPolicy { from: i } => {
            table(n, from, from.policies[*i].table);
            n.object = Some(from.policies[*i].name.clone());
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::{Index, IndexColumn, IndexPart};
    use crate::Dialect;

    fn users(with_email: bool) -> Schema {
        let mut s = Schema::default();
        let id = s.push_table(Some("app".into()), "users");
        s.push_column(Schema::column_template(id, "id", "integer"));
        if with_email {
            let email = s.push_column(Schema::column_template(id, "email", "text"));
            s.indexes.push(Index {
                table: id,
                name: "users_email_key".into(),
                unique: true,
                constraint: false,
                columns: vec![IndexColumn {
                    part: IndexPart::Column(email),
                    descending: false,
                    option: None,
                }],
                method: None,
                predicate: None,
                include: vec![],
                invalid: false,
                nulls_not_distinct: false,
                storage: None,
            });
        }
        s
    }

    #[test]
    fn changes_name_their_objects_and_carry_sql_and_summary() {
        let plan = crate::schema::diff::diff(Dialect::Postgres, &users(false), &users(true));
        let named = named_changes(&plan);
        let v = serde_json::to_value(&named).unwrap();
        assert_eq!(v[0]["change"], "add_column");
        assert_eq!(v[0]["schema"], "app");
        assert_eq!(v[0]["table"], "users");
        assert_eq!(v[0]["column"], "email");
        assert!(v[0]["sql"][0]
            .as_str()
            .unwrap()
            .starts_with("ALTER TABLE \"app\".\"users\""));
        assert!(v[0]["summary"]
            .as_str()
            .unwrap()
            .contains("app.users.email"));
        assert_eq!(v[1]["change"], "create_index");
        assert_eq!(v[1]["index"], "users_email_key");
        assert!(v[1].get("column").is_none());
        // Back again: the drops name the objects of the schema they leave.
        let back = named_changes(&crate::schema::diff::diff(
            Dialect::Postgres,
            &users(true),
            &users(false),
        ));
        let kinds: Vec<&str> = back.iter().map(|c| c.change.as_str()).collect();
        assert_eq!(kinds, ["drop_index", "drop_column"]);
        assert_eq!(back[1].column.as_deref(), Some("email"));
    }

    #[test]
    fn kind_is_the_json_tag_of_every_change() {
        use crate::schema::plan::ColumnChanges;
        use crate::schema::ColumnId;
        let (t, c) = (TableId(0), ColumnId(0));
        let all = [
            Change::CreateNamespace { to: 0 },
            Change::CreateExtension { to: 0 },
            Change::CreateEnum { to: 0 },
            Change::AlterEnum {
                from: 0,
                to: 0,
                added: vec![],
                removed: vec![],
            },
            Change::CreateSequence { to: 0 },
            Change::DropView { from: 0 },
            Change::DropForeignKey { from: 0 },
            Change::DropIndex { from: 0 },
            Change::DropCheck { from: 0 },
            Change::DropPrimaryKey { table: t },
            Change::DropTable { table: t },
            Change::CreateTable { table: t },
            Change::RedefineTable { from: t, to: t },
            Change::AddColumn { column: c },
            Change::AlterColumn {
                from: c,
                to: c,
                changes: ColumnChanges::default(),
            },
            Change::DropColumn { column: c },
            Change::AddPrimaryKey { table: t },
            Change::CreateIndex { to: 0 },
            Change::AddForeignKey { to: 0 },
            Change::AddCheck { to: 0 },
            Change::AlterTableComment { from: t, to: t },
            Change::AlterTableOptions { from: t, to: t },
            Change::CreateView { to: 0 },
            Change::DropEnum { from: 0 },
            Change::DropSequence { from: 0 },
            Change::DropExtension { from: 0 },
            Change::DropNamespace { from: 0 },
            Change::CreateFunction { to: 0 },
            Change::ReplaceFunction { from: 0, to: 0 },
            Change::DropFunction { from: 0 },
            Change::CreateTrigger { to: 0 },
            Change::AlterTrigger { from: 0, to: 0 },
            Change::DropTrigger { from: 0 },
            Change::AlterRowSecurity { table: t },
            Change::AttachPartition { table: t },
            Change::DetachPartition { table: t },
            Change::Repartition { from: t, to: t },
            Change::ValidateForeignKey { to: 0 },
            Change::ValidateCheck { to: 0 },
            Change::CreatePolicy { to: 0 },
            Change::DropPolicy { from: 0 },
            Change::CreateViewIndex { view: 0, index: 0 },
            Change::DropViewIndex { view: 0, index: 0 },
            Change::CreateType { to: 0 },
            Change::AlterType { from: 0, to: 0 },
            Change::DropType { from: 0 },
            Change::CreateEvent { to: 0 },
            Change::DropEvent { from: 0 },
        ];
        for c in &all {
            assert_eq!(serde_json::to_value(c).unwrap()["change"], c.kind());
        }
    }
}
