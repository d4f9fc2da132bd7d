use crate::{Context, Finding, Rule};
use keel_core::splitter::classify;

pub(crate) const DOC: &str = r#"
## What it does
Finds a statement that cannot run inside a transaction (`CREATE INDEX CONCURRENTLY`,
`ALTER TYPE … ADD VALUE` before PostgreSQL 12, `VACUUM`) in a migration with other
statements.

## Why is this bad?
keel must then run the whole migration step by step, outside a transaction: when a later step
fails, the earlier ones stay applied and the migration is left part-way (`keel doctor`
diagnoses it, but it is better avoided).

## Example
```sql
ALTER TABLE "orders" ADD COLUMN "note" text;
CREATE INDEX CONCURRENTLY "orders_note_idx" ON "orders" ("note");
```

## How to fix
Put the statement in a migration of its own, with `-- keel:no-transaction` at the top.
"#;

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    if cx.steps.len() < 2 {
        return;
    }
    for i in 0..cx.steps.len() {
        if let Some(why) = classify(cx.step_sql(i), cx.dialect).non_transactional {
            out.push(cx.finding(Rule::MixedNonTransactional, i, format!(
                "{why}, so the migration's {} statements run one by one outside a transaction: a failure leaves the earlier ones applied; put it in a migration of its own",
                cx.steps.len()
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;

    #[test]
    fn flags_concurrently_among_others_only() {
        let s = schema(&[("orders", &[("note", "text", true)])]);
        let f = run(
            super::check,
            PG,
            &s,
            &s,
            "ALTER TABLE orders ADD COLUMN x int;\nCREATE INDEX CONCURRENTLY i ON orders (note);",
            None,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].step, 2);
        assert!(run(
            super::check,
            PG,
            &s,
            &s,
            "CREATE INDEX CONCURRENTLY i ON orders (note);",
            None
        )
        .is_empty());
    }
}
