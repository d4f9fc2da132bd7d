use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;

pub(crate) const DOC: &str = r#"
## What it does
Finds a PostgreSQL migration that takes a lock on an existing table (ALTER TABLE, CREATE INDEX
without CONCURRENTLY, DROP) without setting `lock_timeout` (`SET lock_timeout = '2s'` or the
`-- keel:lock-timeout=2s` directive).

## Why is this bad?
A DDL statement waiting for its lock (behind a long transaction) blocks every query that
arrives after it: the application stalls for as long as the wait lasts, not just the DDL.

## Example
```sql
ALTER TABLE "orders" ADD COLUMN "note" text;
```

## How to fix
Add `-- keel:lock-timeout=2s` at the top of the migration (or `SET lock_timeout = '2s';` as
its first statement) and retry the deploy when it times out.
"#;

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    if cx.lock_timeout_directive || cx.script.to_ascii_lowercase().contains("lock_timeout") {
        return;
    }
    let from = &cx.plan.from;
    let to = &cx.plan.to;
    let existing = |name: &str, ns: Option<&str>| from.table_id(ns, name).is_some();
    let touched = cx.plan.changes.iter().find_map(|c| {
        let t = match c {
            Change::AddColumn { column } => to.table(to.column(*column).table),
            Change::AlterColumn { to: b, .. } => to.table(to.column(*b).table),
            Change::DropColumn { column } => from.table(from.column(*column).table),
            Change::AddForeignKey { to: i } => to.table(to.foreign_keys[*i].table),
            Change::AddCheck { to: i } => to.table(to.checks[*i].table),
            Change::AddPrimaryKey { table } => to.table(*table),
            Change::DropTable { table } => from.table(*table),
            Change::CreateIndex { to: i } => {
                let ix = &to.indexes[*i];
                let t = to.table(ix.table);
                let at = cx.locate(&[&ix.name]);
                if cx
                    .step_sql(at)
                    .to_ascii_lowercase()
                    .contains("concurrently")
                {
                    return None;
                }
                t
            }
            _ => return None,
        };
        existing(&t.name, t.namespace.as_deref()).then(|| t.name.clone())
    });
    if let Some(table) = touched {
        let at = cx.locate(&[&table]);
        out.push(cx.finding(Rule::MissingLockTimeout, at, format!(
            "locks existing table `{table}` without a lock_timeout: while it waits for the lock, the application's queries queue behind it; add `-- keel:lock-timeout=2s`"
        )));
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;

    #[test]
    fn flags_without_and_passes_with_a_timeout() {
        let before = schema(&[("orders", &[("id", "integer", false)])]);
        let after = schema(&[(
            "orders",
            &[("id", "integer", false), ("note", "text", true)],
        )]);
        assert_eq!(
            run(
                super::check,
                PG,
                &before,
                &after,
                "ALTER TABLE orders ADD COLUMN note text;",
                None
            )
            .len(),
            1
        );
        assert!(run(
            super::check,
            PG,
            &before,
            &after,
            "-- keel:lock-timeout=2s\nALTER TABLE orders ADD COLUMN note text;",
            None
        )
        .is_empty());
        assert!(run(
            super::check,
            PG,
            &before,
            &after,
            "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;",
            None
        )
        .is_empty());
    }
}
