use crate::facts::count;
use crate::rules::{existed, index_columns};
use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;

pub(crate) const DOC: &str = r#"
## What it does
Finds a unique index, unique constraint or primary key added to an existing table.

## Why is this bad?
Duplicate values in those columns make the statement fail, part-way through the deploy. On
PostgreSQL a plain `CREATE UNIQUE INDEX` also blocks writes while it builds.

## Example
```sql
CREATE UNIQUE INDEX "users_email_key" ON "users" ("email");
```

## How to fix
Find and merge the duplicates first
(`SELECT email, count(*) FROM users GROUP BY email HAVING count(*) > 1`); on PostgreSQL build
it with `CREATE UNIQUE INDEX CONCURRENTLY`.
"#;

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let to = &cx.plan.to;
    for c in &cx.plan.changes {
        let (table, cols, what) = match c {
            Change::CreateIndex { to: i } if to.indexes[*i].unique => {
                let ix = &to.indexes[*i];
                (
                    ix.table,
                    index_columns(to, &ix.columns),
                    format!("unique index `{}`", ix.name),
                )
            }
            Change::AddPrimaryKey { table } => {
                let cols = to.table(*table).primary_key.as_ref().map(|p| {
                    p.columns
                        .iter()
                        .map(|c| to.column(*c).name.clone())
                        .collect()
                });
                (*table, cols, "a primary key".to_string())
            }
            _ => continue,
        };
        if !existed(cx, table) {
            continue;
        }
        let name = to.table_name(table);
        let cols = cols.unwrap_or_default();
        let key = (name.clone(), cols.join(","));
        let stake = match cx.facts.and_then(|f| f.duplicates.get(&key)) {
            Some(0) => " (no duplicates on the target now)".to_string(),
            Some(n) => format!(
                ": {} group{} of duplicate rows on the target, so it fails",
                count(*n),
                if *n == 1 { "" } else { "s" }
            ),
            None => ": it fails if any values repeat".to_string(),
        };
        let mut names: Vec<&str> = vec![&to.table(table).name];
        names.extend(cols.iter().map(String::as_str));
        let at = cx.locate(&names);
        out.push(cx.finding(
            Rule::UniqueMayFail,
            at,
            format!("adds {what} on `{name}` ({}){stake}", cols.join(", ")),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;
    use keel_core::schema::{Index, IndexColumn, IndexPart};

    #[test]
    fn counts_duplicate_groups() {
        let before = schema(&[("users", &[("email", "text", true)])]);
        let mut after = before.clone();
        after.indexes.push(Index {
            table: keel_core::schema::TableId(0),
            name: "users_email_key".into(),
            unique: true,
            constraint: false,
            columns: vec![IndexColumn {
                part: IndexPart::Column(keel_core::schema::ColumnId(0)),
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
        let mut facts = crate::Facts::default();
        facts.duplicates.insert(("users".into(), "email".into()), 2);
        let f = run(
            super::check,
            SQLITE,
            &before,
            &after,
            "CREATE UNIQUE INDEX users_email_key ON users (email);",
            Some(&facts),
        );
        assert_eq!(render(&f), "warning[unique-may-fail] m.sql:1 step 1: adds unique index `users_email_key` on `users` (email): 2 groups of duplicate rows on the target, so it fails");
    }
}
