use crate::facts::count;
use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;

pub(crate) const DOC: &str = r#"
## What it does
Finds tables the migration drops.

## Why is this bad?
Every row of the table is gone once the migration commits; nothing but a backup brings it
back. A table dropped while the application still reads it also breaks the running version.

## Example
```sql
DROP TABLE "audit_log";
```

## How to fix
Stop using the table in the application first and deploy that; copy the rows you need
elsewhere; then drop it, and say so: `-- keel:allow drop-table reason="archived to S3"`.
"#;

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    for c in &cx.plan.changes {
        let Change::DropTable { table } = c else {
            continue;
        };
        let t = cx.plan.from.table(*table);
        if crate::rules::renamed_in_script(cx, &t.name) {
            continue;
        }
        let name = cx.plan.from.table_name(*table);
        let at = cx.locate(&["drop", &t.name]);
        let rows = cx.facts.and_then(|f| f.rows.get(&name)).copied();
        let stake = match rows.as_ref() {
            Some(n) => format!(
                ", which holds {} row{}",
                count(*n),
                if *n == 1 { "" } else { "s" }
            ),
            None => String::new(),
        };
        let mut f = cx.finding(Rule::DropTable, at, format!("drops table `{name}`{stake}"));
        f.rows = rows;
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;

    #[test]
    fn flags_a_dropped_table_with_its_rows() {
        let before = schema(&[
            ("users", &[("id", "integer", false)]),
            ("old", &[("id", "integer", false)]),
        ]);
        let after = schema(&[("users", &[("id", "integer", false)])]);
        let mut facts = crate::Facts::default();
        facts.rows.insert("old".into(), 12345);
        let f = run(
            super::check,
            PG,
            &before,
            &after,
            "DROP TABLE old;",
            Some(&facts),
        );
        assert_eq!(
            render(&f),
            "error[drop-table] m.sql:1 step 1: drops table `old`, which holds 12,345 rows"
        );
    }

    #[test]
    fn passes_without_drops() {
        let s = schema(&[("users", &[("id", "integer", false)])]);
        assert!(run(super::check, PG, &s, &s, "SELECT 1;", None).is_empty());
    }
}
