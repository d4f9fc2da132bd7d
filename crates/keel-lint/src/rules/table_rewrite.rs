use crate::rules::{existed, rows_note};
use crate::types::pg_rewrites;
use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;

pub(crate) const DOC: &str = r#"
## What it does
Finds PostgreSQL changes that rewrite a whole existing table: a column type change that is
not binary-coercible (e.g. `integer` → `bigint`), and a column added with a volatile default
(`random()`, `gen_random_uuid()`, `clock_timestamp()`, `nextval(…)`).

## Why is this bad?
The rewrite holds an ACCESS EXCLUSIVE lock for its whole duration: no reads, no writes.
(Since PostgreSQL 11 a constant default does not rewrite.)

## Example
```sql
ALTER TABLE "events" ALTER COLUMN "id" TYPE bigint;
```

## How to fix
Add a new column, backfill it in batches, switch over, drop the old one; for a volatile
default, add the column without it, then set the default and backfill.
"#;

const VOLATILE: [&str; 6] = [
    "random(",
    "gen_random_uuid(",
    "uuid_generate_v4(",
    "clock_timestamp(",
    "nextval(",
    "timeofday(",
];

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let (from, to) = (&cx.plan.from, &cx.plan.to);
    for c in &cx.plan.changes {
        match c {
            Change::AlterColumn {
                from: a,
                to: b,
                changes,
            } if changes.data_type => {
                let (old, new) = (from.column(*a), to.column(*b));
                if !pg_rewrites(&old.data_type, &new.data_type) {
                    continue;
                }
                let table = from.table_name(old.table);
                let at = cx.locate(&[&old.name]);
                out.push(cx.finding(Rule::TableRewrite, at, format!(
                    "changes `{table}.{}` from {} to {}: the table is rewritten under an ACCESS EXCLUSIVE lock{}",
                    old.name, old.data_type, new.data_type, rows_note(cx, &table)
                )));
            }
            Change::AddColumn { column } => {
                let col = to.column(*column);
                let volatile = col.default.as_deref().is_some_and(|d| {
                    let d = d.to_ascii_lowercase();
                    VOLATILE.iter().any(|v| d.contains(v))
                }) && col.auto_increment.is_none();
                let stored = col.generated.as_ref().is_some_and(|g| g.stored);
                if !(volatile || stored) || !existed(cx, col.table) {
                    continue;
                }
                let table = to.table_name(col.table);
                let at = cx.locate(&[&col.name]);
                out.push(cx.finding(Rule::TableRewrite, at, format!(
                    "adds `{table}.{}` with a {}: the table is rewritten under an ACCESS EXCLUSIVE lock{}",
                    col.name,
                    if stored { "stored generated value" } else { "volatile default" },
                    rows_note(cx, &table)
                )));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;

    #[test]
    fn flags_int_to_bigint_not_varchar_widening() {
        let before = schema(&[(
            "events",
            &[
                ("id", "integer", false),
                ("name", "character varying(10)", true),
            ],
        )]);
        let mut after = before.clone();
        after.columns[0].data_type = "bigint".into();
        after.columns[1].data_type = "character varying(20)".into();
        let f = run(super::check, PG, &before, &after, "ALTER TABLE events ALTER COLUMN id TYPE bigint;\nALTER TABLE events ALTER COLUMN name TYPE varchar(20);", None);
        assert_eq!(render(&f), "warning[table-rewrite] m.sql:1 step 1: changes `events.id` from integer to bigint: the table is rewritten under an ACCESS EXCLUSIVE lock");
    }
}
