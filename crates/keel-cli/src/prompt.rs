//! The questions keel asks on a terminal: the one place that reads an answer.

use std::io::{BufRead, IsTerminal, Write};

/// Whether keel may ask: stdin and stderr are terminals and the output is not JSON. Otherwise
/// a confirmation counts as refused (unless `--yes`) and a question as unanswered.
pub fn interactive(json: bool) -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal() && !json
}

/// Prints `question` on stderr and reads one line from stdin, trimmed (empty at end of input).
fn answer(question: &str) -> String {
    err_part!("{question} ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line.trim().to_string()
}

/// A yes/no question (`[y/N]`): `y` or `yes` is yes, anything else no.
pub fn yes_no(question: &str) -> bool {
    matches!(answer(question).to_ascii_lowercase().as_str(), "y" | "yes")
}

/// A confirmation of something that changes a database: the user must type `expected`
/// exactly (`yes` for a repair or a rollback, the database's name for a reset).
pub fn typed(question: &str, expected: &str) -> bool {
    answer(question) == expected
}
