use crate::facts::count;
use crate::rules::existed;
use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;

pub(crate) const DOC: &str = r#"
## What it does
Finds a foreign key added to an existing PostgreSQL table without `NOT VALID`.

## Why is this bad?
PostgreSQL checks every existing row while holding a SHARE ROW EXCLUSIVE lock on both
tables: writes wait for the whole scan, and one orphan row fails the migration.

## Example
```sql
ALTER TABLE "orders" ADD CONSTRAINT "orders_user_fk" FOREIGN KEY ("user_id") REFERENCES "users" ("id");
```

## How to fix
Add it `NOT VALID` (new rows are checked at once), then in a later step
`ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk` (scans without blocking writes).
"#;

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let to = &cx.plan.to;
    for c in &cx.plan.changes {
        let Change::AddForeignKey { to: i } = c else {
            continue;
        };
        let fk = &to.foreign_keys[*i];
        if !existed(cx, fk.table) {
            continue;
        }
        let t = to.table(fk.table);
        let mut names = vec![t.name.as_str(), "foreign"];
        if let Some(n) = &fk.name {
            names.push(n);
        }
        let at = cx.locate(&names);
        if cx.step_sql(at).to_ascii_lowercase().contains("not valid") {
            continue;
        }
        let cols: Vec<String> = fk
            .columns
            .iter()
            .map(|c| to.column(*c).name.clone())
            .collect();
        let table = to.table_name(fk.table);
        let stake = match cx
            .facts
            .and_then(|f| f.orphans.get(&(table.clone(), cols.join(","))))
        {
            Some(0) => String::new(),
            Some(n) => format!(
                "; {} row{} on the target {} nothing, so it fails",
                count(*n),
                if *n == 1 { "" } else { "s" },
                if *n == 1 { "references" } else { "reference" }
            ),
            None => String::new(),
        };
        out.push(cx.finding(
            Rule::ForeignKeyNotValid,
            at,
            format!("adds a foreign key on `{table}` ({}) without NOT VALID: every row is checked while writes wait{stake}", cols.join(", ")),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;
    use keel_core::schema::{Action, ColumnId, ForeignKey, TableId};

    fn with_fk() -> (keel_core::schema::Schema, keel_core::schema::Schema) {
        let before = schema(&[
            ("users", &[("id", "integer", false)]),
            ("orders", &[("user_id", "integer", true)]),
        ]);
        let mut after = before.clone();
        after.foreign_keys.push(ForeignKey {
            table: TableId(1),
            name: Some("orders_user_fk".into()),
            columns: vec![ColumnId(1)],
            referenced_table: TableId(0),
            referenced_columns: vec![ColumnId(0)],
            on_delete: Action::NoAction,
            on_update: Action::NoAction,
            deferrable: None,
            not_valid: false,
        });
        (before, after)
    }

    #[test]
    fn flags_without_not_valid_only() {
        let (before, after) = with_fk();
        let f = run(super::check, PG, &before, &after, "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);", None);
        assert_eq!(f.len(), 1);
        let f = run(super::check, PG, &before, &after, "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;", None);
        assert!(f.is_empty());
    }
}
