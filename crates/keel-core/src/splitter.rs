//! The step splitter. (Being written; see issue #2 item 3.)

use crate::Dialect;
use std::ops::Range;

/// One SQL statement of a migration script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Byte range of the statement in the script, without the terminating delimiter.
    pub range: Range<usize>,
    /// 1-based line number where the statement starts.
    pub line: usize,
}

impl Step {
    /// The statement's text within `script`.
    pub fn sql<'a>(&self, script: &'a str) -> &'a str {
        &script[self.range.clone()]
    }
}

/// Splits `script` into steps.
pub fn split(script: &str, _dialect: Dialect) -> Vec<Step> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in script.char_indices() {
        if c == ';' {
            let s = script[start..i].trim();
            if !s.is_empty() {
                let off = start + script[start..i].find(s).unwrap_or(0);
                out.push(Step { range: off..off + s.len(), line: 1 + script[..off].matches('\n').count() });
            }
            start = i + 1;
        }
    }
    let s = script[start..].trim();
    if !s.is_empty() {
        let off = start + script[start..].find(s).unwrap_or(0);
        out.push(Step { range: off..off + s.len(), line: 1 + script[..off].matches('\n').count() });
    }
    out
}
