//! `keel explain [CODE|RULE]`: prints the text compiled into the binary (`keel::explain`).

use crate::output::report_error;
use keel::{Error, ExitStatus};

/// Prints the explanation of `topic`, or the list of every code and rule when there is none;
/// an unknown topic is K4008 (exit 1).
pub fn run(topic: Option<&str>, json: bool) -> ExitStatus {
    match run_with(topic, json) {
        Ok(code) => code,
        Err(e) => report_error(&e, "", json),
    }
}

pub fn run_with(topic: Option<&str>, json: bool) -> Result<ExitStatus, Error> {
    let Some(text) = topic else {
        if json {
            out!("{}", keel::explain::index_json());
        } else {
            out!("{}", keel::explain::index().trim_end());
        }
        return Ok(ExitStatus::Success);
    };
    let topic = keel::explain::topic(text)?;
    if json {
        out!("{}", topic.json());
    } else {
        out!("{}", topic.text().trim_end());
    }
    Ok(ExitStatus::Success)
}
