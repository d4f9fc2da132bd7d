use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;
use keel_core::Dialect;

pub(crate) const DOC: &str = r#"
## What it does
Finds a trigger the migration replaces (dropped and created again with another definition)
on a table that existed before it.

## Why is this bad?
On MySQL/MariaDB every DDL statement commits by itself: rows written between the `DROP
TRIGGER` and the `CREATE TRIGGER` skip the trigger (an audit log with a gap, a counter that
drifts). On PostgreSQL the replacement is atomic in the migration's transaction (not in a
`-- keel:no-transaction` one), but it takes a `SHARE ROW EXCLUSIVE` lock on the table: every
write waits while the migration waits for its lock.

## Example
```sql
DROP TRIGGER orders_audit ON orders;
CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit();
```

## How to fix
PostgreSQL: keep both statements in one transaction (no `-- keel:no-transaction`), with a
`lock_timeout`, or use `CREATE OR REPLACE TRIGGER` (PostgreSQL 14+). MySQL/MariaDB: deploy when
writes to the table are paused, or make the trigger's work idempotent so that a later
backfill can fill the gap.
"#;

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let (from, to) = (&cx.plan.from, &cx.plan.to);
    for c in &cx.plan.changes {
        let Change::CreateTrigger { to: i } = c else {
            continue;
        };
        let tr = &to.triggers[*i];
        let table = to.table(tr.table);
        let replaced = cx.plan.changes.iter().any(|d| {
            matches!(d, Change::DropTrigger { from: j }
                if from.triggers[*j].name == tr.name
                    && from.table(from.triggers[*j].table).name == table.name)
        });
        if !replaced || !crate::rules::existed(cx, tr.table) {
            continue;
        }
        let name = to.table_name(tr.table);
        let rows = crate::rules::rows_note(cx, &name);
        let at = cx.locate(&["trigger", &tr.name]);
        let why = match cx.dialect {
            Dialect::Mysql => format!(
                "rows written to `{name}`{rows} between its DROP and CREATE skip it: MySQL commits each statement"
            ),
            _ if cx.no_transaction => format!(
                "rows written to `{name}`{rows} between its DROP and CREATE skip it: the migration runs outside a transaction"
            ),
            Dialect::Postgres => format!(
                "takes a SHARE ROW EXCLUSIVE lock on `{name}`{rows}: writes wait while it waits for the lock"
            ),
            Dialect::Sqlite => continue,
        };
        out.push(cx.finding(
            Rule::ReplaceTrigger,
            at,
            format!("replaces trigger `{}`: {why}", tr.name),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;
    use keel_core::schema::{TableId, Trigger, TriggerState};

    fn with_trigger(definition: &str) -> keel_core::schema::Schema {
        let mut s = schema(&[("orders", &[("id", "integer", false)])]);
        s.triggers.push(Trigger {
            table: TableId(0),
            name: "orders_audit".into(),
            definition: definition.into(),
            state: TriggerState::Enabled,
        });
        s
    }

    #[test]
    fn flags_a_replaced_trigger_per_database() {
        let before = with_trigger("CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION audit()");
        let after = with_trigger("CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit()");
        let script = "DROP TRIGGER orders_audit ON orders;\nCREATE TRIGGER orders_audit AFTER INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit();";
        let mut facts = crate::Facts::default();
        facts.rows.insert("orders".into(), 5000);
        assert_eq!(
            render(&run(super::check, PG, &before, &after, script, Some(&facts))),
            "warning[replace-trigger] m.sql:1 step 1: replaces trigger `orders_audit`: takes a SHARE ROW EXCLUSIVE lock on `orders` (5,000 rows on the target): writes wait while it waits for the lock"
        );
        assert!(
            render(&run(super::check, MYSQL, &before, &after, script, None))
                .contains("MySQL commits each statement")
        );
        let no_tx = format!("-- keel:no-transaction\n{script}");
        assert!(
            render(&run(super::check, PG, &before, &after, &no_tx, None))
                .contains("outside a transaction")
        );
        // A new trigger, or one on a new table, replaces nothing.
        let bare = schema(&[("orders", &[("id", "integer", false)])]);
        assert!(run(super::check, PG, &bare, &after, script, None).is_empty());
    }
}
