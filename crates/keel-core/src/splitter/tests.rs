#![allow(clippy::unwrap_used)]

use super::*;

fn texts(script: &str, d: Dialect) -> Vec<&str> {
    split(script, d).iter().map(|s| s.sql(script)).collect()
}

#[test]
fn smoke() {
    assert_eq!(
        texts("SELECT 1; SELECT 2", Dialect::Postgres),
        ["SELECT 1", "SELECT 2"]
    );
}
