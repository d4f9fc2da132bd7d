//! The step splitter and the step classifier on arbitrary text.
//!
//! The first byte picks the dialect (its low two bits: 0 PostgreSQL, 1 MySQL, 2 SQLite, 3 all
//! three), the rest is the script; fuzz/seed.sh gives every seed as `0…`, `1…` and `2…`. One
//! dialect per run is about three times as many runs per second as all three.
//!
//! Besides "never panics" it checks the contract documented on `keel_core::splitter::split` and
//! `Step` (the public part of what the unit tests' `check_invariants` checks): every range is
//! non-empty, inside the script, on char boundaries, after the previous one; `line` is the
//! 1-based line of the range's start; a step does not start with whitespace; `Step::sql` is
//! exactly the range's text.
#![no_main]

use keel_core::splitter::{classify, split};
use keel_core::Dialect;
use libfuzzer_sys::fuzz_target;

const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    let dialects = match pick & 3 {
        3 => &ALL[..],
        i => &ALL[usize::from(i)..=usize::from(i)],
    };
    // Lossy: every input means some text (and U+FFFD exercises multi-byte chars).
    let script = String::from_utf8_lossy(data);
    let script: &str = &script;
    for &dialect in dialects {
        let steps = split(script, dialect);
        let mut prev_end = 0;
        for step in &steps {
            let r = step.range.clone();
            assert!(r.start < r.end, "empty step {r:?} ({dialect:?})");
            assert!(
                r.end <= script.len(),
                "step {r:?} out of bounds ({dialect:?})"
            );
            assert!(
                script.is_char_boundary(r.start) && script.is_char_boundary(r.end),
                "step {r:?} not on char boundaries ({dialect:?})"
            );
            assert!(
                r.start >= prev_end,
                "step {r:?} overlaps the previous one ({dialect:?})"
            );
            prev_end = r.end;
            assert_eq!(
                step.line,
                1 + script[..r.start].matches('\n').count(),
                "line of step {r:?} ({dialect:?})"
            );
            let sql = step.sql(script);
            assert_eq!(sql, &script[r.clone()]);
            assert!(
                !sql.starts_with(|c: char| c.is_ascii_whitespace()),
                "step {r:?} starts with whitespace ({dialect:?})"
            );
            let kind = classify(sql, dialect);
            assert_eq!(kind, step.classify(script, dialect));
        }
    }
});
