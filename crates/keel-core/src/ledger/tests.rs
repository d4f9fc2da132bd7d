#![allow(clippy::unwrap_used)]
use super::*;
use chrono::TimeZone;
use proptest::prelude::*;

fn file(name: &str, sql: &str) -> Migration {
    Migration::from_bytes(name, name.into(), None, sql.as_bytes().to_vec()).unwrap()
}

fn row(name: &str, sql: &str, t: i64, finished: bool, rolled_back: bool) -> LedgerRow {
    let at = Utc.timestamp_opt(1_700_000_000 + t, 0).unwrap();
    LedgerRow {
        id: format!("id-{name}-{t}"),
        checksum: crate::checksum::sha256_hex(sql.as_bytes()),
        finished_at: finished.then_some(at),
        migration_name: name.into(),
        logs: None,
        rolled_back_at: rolled_back.then_some(at),
        started_at: at,
        applied_steps_count: 0,
    }
}

fn states(r: &Reconciled) -> Vec<(&str, State)> {
    r.entries
        .iter()
        .map(|e| (e.name.as_str(), e.state))
        .collect()
}

#[test]
#[allow(clippy::type_complexity)]
fn case_table() {
    use State::*;
    let files = vec![file("1_a", "A"), file("2_b", "B"), file("3_c", "C")];
    let cases: Vec<(&str, Vec<LedgerRow>, Vec<(&str, State)>)> = vec![
        (
            "empty ledger",
            vec![],
            vec![("1_a", Pending), ("2_b", Pending), ("3_c", Pending)],
        ),
        (
            "first applied",
            vec![row("1_a", "A", 1, true, false)],
            vec![("1_a", Applied), ("2_b", Pending), ("3_c", Pending)],
        ),
        (
            "second failed",
            vec![
                row("1_a", "A", 1, true, false),
                row("2_b", "B", 2, false, false),
            ],
            vec![("1_a", Applied), ("2_b", Failed), ("3_c", Pending)],
        ),
        (
            "failed then rolled back",
            vec![
                row("1_a", "A", 1, true, false),
                row("2_b", "B", 2, false, true),
            ],
            vec![("1_a", Applied), ("2_b", RolledBack), ("3_c", Pending)],
        ),
        (
            "rolled back then applied on retry",
            vec![
                row("1_a", "A", 1, true, false),
                row("2_b", "B", 2, false, true),
                row("2_b", "B", 3, true, false),
            ],
            vec![("1_a", Applied), ("2_b", Applied), ("3_c", Pending)],
        ),
        (
            "edited after apply",
            vec![row("1_a", "A-old", 1, true, false)],
            vec![("1_a", Modified), ("2_b", Pending), ("3_c", Pending)],
        ),
        (
            "ledger row without folder",
            vec![
                row("1_a", "A", 1, true, false),
                row("0_gone", "G", 0, true, false),
            ],
            vec![
                ("0_gone", Missing),
                ("1_a", Applied),
                ("2_b", Pending),
                ("3_c", Pending),
            ],
        ),
        (
            "hole before an applied one",
            vec![
                row("1_a", "A", 1, true, false),
                row("3_c", "C", 2, true, false),
            ],
            vec![("1_a", Applied), ("2_b", OutOfOrder), ("3_c", Applied)],
        ),
        (
            "failed without file stays failed",
            vec![row("9_z", "Z", 5, false, false)],
            vec![
                ("1_a", Pending),
                ("2_b", Pending),
                ("3_c", Pending),
                ("9_z", Failed),
            ],
        ),
        (
            "rolled back without file disappears",
            vec![row("9_z", "Z", 5, false, true)],
            vec![("1_a", Pending), ("2_b", Pending), ("3_c", Pending)],
        ),
    ];
    for (what, rows, want) in cases {
        assert_eq!(states(&reconcile(&files, &rows)), want, "{what}");
    }
}

#[test]
fn crlf_checkout_is_not_modified() {
    let files = vec![file("1_a", "A;\r\nB;\r\n")];
    let rows = vec![row("1_a", "A;\nB;\n", 1, true, false)];
    assert_eq!(reconcile(&files, &rows).entries[0].state, State::Applied);
}

proptest! {
    /// Every file and every ledger name appears exactly once, in apply order, whatever the rows.
    #[test]
    fn every_name_once_in_order(
        n_files in 0usize..8,
        rows in proptest::collection::vec((0usize..10, 0i64..50, any::<bool>(), any::<bool>(), any::<bool>()), 0..16)
    ) {
        let files: Vec<Migration> = (0..n_files).map(|i| file(&format!("{i}_m"), "X")).collect();
        let rows: Vec<LedgerRow> = rows.into_iter().map(|(i, t, fin, rb, same)| {
            row(&format!("{i}_m"), if same { "X" } else { "Y" }, t, fin, rb)
        }).collect();
        let r = reconcile(&files, &rows);
        for f in &files {
            prop_assert_eq!(r.entries.iter().filter(|e| e.name == f.name).count(), 1);
        }
        for w in r.entries.windows(2) {
            prop_assert!(compare_names(&w[0].name, &w[1].name) == std::cmp::Ordering::Less);
        }
        for e in &r.entries {
            let has_rows = rows.iter().any(|x| x.migration_name == e.name);
            prop_assert_eq!(e.attempts > 0, has_rows);
            if e.state == State::Pending { prop_assert!(!has_rows); }
        }
    }
}
