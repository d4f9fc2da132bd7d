//! `keel resolve`.

use crate::args::ResolveArgs;
use keel::ExitStatus;
use keel::{Error, ResolveAction, Settings};

pub async fn run(settings: &Settings, a: &ResolveArgs, json: bool) -> Result<ExitStatus, Error> {
    let action = match (&a.applied, &a.rolled_back) {
        (Some(n), _) => ResolveAction::Applied(n.clone()),
        (None, Some(n)) => ResolveAction::RolledBack(n.clone()),
        (None, None) => unreachable_by_clap(),
    };
    let state = keel::resolve_with(settings, &action, a.force).await?;
    let name = match &action {
        ResolveAction::Applied(n) | ResolveAction::RolledBack(n) => n,
    };
    if json {
        out!("{}", serde_json::json!({"migration": name, "state": state}));
    } else {
        out!("recorded `{name}` as {state} in the ledger (the schema was not touched)");
        if matches!(action, ResolveAction::RolledBack(_)) {
            out!("next: fix the migration if needed, then `keel deploy` runs it again");
        }
    }
    Ok(ExitStatus::Success)
}

/// clap's `ArgGroup(required = true)` guarantees one of the two flags.
fn unreachable_by_clap() -> ResolveAction {
    ResolveAction::RolledBack(String::new())
}
