//! `keel explain CODE|RULE`: the cause, fix and example of an error code, or a lint rule's
//! documentation, from text compiled into the binary, so that someone with only the installed
//! `keel` needs no repository (the convention of `rustc --explain E0308`).
//!
//! The codes come from `keel_core::codes` (the table `docs/errors.md` is generated from), the
//! rules from `keel_lint::Rule`'s table (the one `docs/lint.md` describes).

use crate::Error;
use keel_core::codes::ErrorCode;
use keel_lint::{Rule, Severity};

/// What `keel explain` was asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// An error code or `keel doctor` finding (`K3009`).
    Code(ErrorCode),
    /// A lint rule (`drop-column`).
    Rule(Rule),
}

/// The topic `text` names: an error code in any case (`K3009`, `k3009`), a Prisma code that
/// keel carries under the same number (`P3009` is `K3009`: keel's codes below `K4000` are
/// Prisma's), or a lint rule id (`drop-column`; `drop_column` and any case are accepted too).
///
/// # Errors
/// [`Error::UnknownExplainTopic`] (K4008) when it is neither.
pub fn topic(text: &str) -> Result<Topic, Error> {
    let text = text.trim();
    if let Some(code) = ErrorCode::parse(text) {
        return Ok(Topic::Code(code));
    }
    if let Some(number) = text.strip_prefix(['P', 'p']) {
        let prisma = number.parse::<u32>().is_ok_and(|n| n < 4000);
        if let Some(code) = ErrorCode::parse(&format!("K{number}")).filter(|_| prisma) {
            return Ok(Topic::Code(code));
        }
    }
    let id = text.to_ascii_lowercase().replace('_', "-");
    Rule::from_id(&id)
        .map(Topic::Rule)
        .ok_or_else(|| Error::UnknownExplainTopic {
            topic: text.chars().take(80).collect(),
        })
}

impl Topic {
    /// The explanation as printed: plain text with Markdown's backticks, ending in a newline.
    pub fn text(self) -> String {
        match self {
            Topic::Code(code) => {
                let mut out = format!(
                    "{code}\n\nCause: {}\n\nFix: {}\n",
                    without_links(code.cause()),
                    without_links(code.fix())
                );
                if let Some(example) = code.example() {
                    out.push_str("\nExample:\n");
                    for line in example.lines() {
                        out.push_str("    ");
                        out.push_str(line);
                        out.push('\n');
                    }
                }
                out
            }
            Topic::Rule(rule) => format!(
                "{} ({}; {})\n\n{}\n{}",
                rule.id(),
                severity_word(rule.severity()),
                dialects(rule),
                rule.summary(),
                rule.doc().trim_end_matches('\n').to_string() + "\n"
            ),
        }
    }

    /// The explanation as JSON: `{"code","cause","fix","example"}` for a code (`example` is
    /// `null` when the code has none), `{"rule","severity","databases","summary","doc"}` for a
    /// rule.
    pub fn json(self) -> serde_json::Value {
        match self {
            Topic::Code(code) => serde_json::json!({
                "code": code.as_str(),
                "cause": code.cause(),
                "fix": code.fix(),
                "example": code.example(),
            }),
            Topic::Rule(rule) => serde_json::json!({
                "rule": rule.id(),
                "severity": rule.severity().to_string(),
                "databases": rule.dialects().iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                "summary": rule.summary(),
                "doc": rule.doc().trim(),
            }),
        }
    }
}

/// Every code and rule, one line each (the first sentence of the cause, the rule's summary),
/// for `keel explain` without a topic.
pub fn index() -> String {
    let mut out = String::from("Error codes (keel explain CODE):\n");
    for code in ErrorCode::ALL {
        out.push_str(&format!("  {code}  {}\n", first_sentence(code.cause())));
    }
    out.push_str("\nLint rules (keel explain RULE):\n");
    let width = Rule::ALL.iter().map(|r| r.id().len()).max().unwrap_or(0);
    for rule in Rule::ALL {
        out.push_str(&format!(
            "  {:width$}  {}\n",
            rule.id(),
            rule.summary(),
            width = width
        ));
    }
    out
}

/// [`index`] as JSON: `{"codes":[{"code","cause"}],"rules":[{"rule","summary"}]}`.
pub fn index_json() -> serde_json::Value {
    serde_json::json!({
        "codes": ErrorCode::ALL.iter().map(|c| serde_json::json!({
            "code": c.as_str(),
            "cause": first_sentence(c.cause()),
        })).collect::<Vec<_>>(),
        "rules": Rule::ALL.iter().map(|r| serde_json::json!({
            "rule": r.id(),
            "summary": r.summary(),
        })).collect::<Vec<_>>(),
    })
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error: loses data",
        Severity::Warning => "warning",
    }
}

fn dialects(rule: Rule) -> String {
    rule.dialects()
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` with each Markdown link `[words](target)` reduced to its words (the targets are
/// places in keel's docs, which an installed binary does not have).
fn without_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let link = after
            .find("](")
            .filter(|&close| !after[..close].contains(['[', ']']))
            .and_then(|close| Some((close, after[close + 2..].find(')')?)));
        let Some((close, end)) = link else {
            out.push_str(&rest[..=open]);
            rest = after;
            continue;
        };
        out.push_str(&rest[..open]);
        out.push_str(&after[..close]);
        rest = &after[close + 2 + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The text up to the first `. ` outside backticks and parentheses (the whole text when
/// there is none).
fn first_sentence(text: &str) -> &str {
    let (mut ticks, mut depth) = (false, 0i32);
    for (i, c) in text.char_indices() {
        match c {
            '`' => ticks = !ticks,
            '(' if !ticks => depth += 1,
            ')' if !ticks => depth -= 1,
            '.' if !ticks && depth <= 0 && text[i + 1..].starts_with(' ') => {
                return &text[..=i];
            }
            _ => {}
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_and_rule_is_explained() {
        for code in ErrorCode::ALL {
            let t = topic(code.as_str()).map(Topic::text).unwrap_or_default();
            assert!(t.starts_with(code.as_str()), "{code}: {t}");
            assert!(t.contains("Cause: ") && t.contains("Fix: "), "{code}: {t}");
        }
        for rule in Rule::ALL {
            let t = topic(rule.id()).map(Topic::text).unwrap_or_default();
            assert!(t.starts_with(rule.id()), "{}: {t}", rule.id());
            assert!(t.contains("## How to fix"), "{}: {t}", rule.id());
        }
    }

    #[test]
    fn topics_are_read_loosely_and_refused_with_k4008() {
        assert_eq!(topic("k3009").ok(), Some(Topic::Code(ErrorCode::K3009)));
        assert_eq!(
            topic(" DROP_COLUMN ").ok(),
            Some(Topic::Rule(Rule::DropColumn))
        );
        assert_eq!(topic("P3009").ok(), Some(Topic::Code(ErrorCode::K3009)));
        for unknown in ["P4070", "K9999", "", "drop column"] {
            let e = topic(unknown).err().map(|e| e.code());
            assert_eq!(e, Some(ErrorCode::K4008), "{unknown}");
        }
    }

    #[test]
    fn links_are_reduced_to_their_words() {
        assert_eq!(
            without_links("see [below](#x) and [running keel](production.md#a-b)."),
            "see below and running keel."
        );
        assert_eq!(without_links("a [b] c [d](e"), "a [b] c [d](e");
    }

    #[test]
    fn first_sentence_skips_dots_in_code_and_parentheses() {
        assert_eq!(first_sentence("A (e.g. x). B."), "A (e.g. x).");
        assert_eq!(first_sentence("Use `a. b` here. Then"), "Use `a. b` here.");
        assert_eq!(first_sentence("No stop"), "No stop");
    }
}
