//! One file per command.

mod baseline;
mod check;
mod deploy;
mod diff;
mod doctor;
mod drift;
mod execute;
mod explain;
mod init;
mod inspect;
mod lint;
mod new;
mod plan;
mod repair;
mod reset;
mod resolve;
mod rollback;
mod status;

use crate::args::{Cli, Command};
use crate::output::report_error;
use keel::{ExitStatus, Settings, SettingsInput};

/// Runs the command and returns the process exit status (DESIGN.md, "Exit codes").
pub async fn run(cli: Cli) -> ExitStatus {
    let g = &cli.global;
    // Needs no project, no settings and no database: it must work anywhere keel is installed.
    if let Command::Explain { topic } = &cli.command {
        return explain::run(topic.as_deref(), g.json);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let input = SettingsInput {
        database_url: g.database_url.clone(),
        migrations: g.migrations.clone(),
        ledger_table: g.ledger_table.clone(),
        lock_timeout: g.lock_timeout.clone(),
        lock_attempts: g.lock_attempts,
        statement_timeout: g.statement_timeout.clone(),
        deploy_lock_timeout: g.deploy_lock_timeout.clone(),
        shadow_database_url: g.shadow_database_url.clone(),
    };
    let raw_url = g.database_url.clone().unwrap_or_default();
    let settings = match Settings::resolve(input, &cwd) {
        Ok(s) => s,
        Err(e) => return report_error(&e, &raw_url, g.json),
    };
    let result = match &cli.command {
        Command::Init => init::run(&settings, &cwd, g.json),
        Command::New { name } => new::run(&settings, name, g.json),
        Command::Deploy(a) => deploy::run(&settings, a, g.json).await,
        Command::Status { exit_code, drift } => {
            status::run(&settings, *exit_code, *drift, g.json).await
        }
        Command::Resolve(a) => resolve::run(&settings, a, g.json).await,
        Command::Diff(a) => diff::run(&settings, a, g.json).await,
        Command::Drift(a) => drift::run(&settings, a, g.json).await,
        Command::Execute(a) => execute::run(&settings, a, g.json).await,
        Command::Plan(a) => plan::run(&settings, a, g.json).await,
        Command::Rollback(a) => rollback::run(&settings, a, g.json).await,
        Command::Check { schema, strict } => {
            let schema = schema
                .clone()
                .unwrap_or_else(|| keel::desired::default_schema(std::path::Path::new(".")));
            check::run(&settings, &schema, *strict, g.json).await
        }
        Command::Inspect { format } => inspect::run(&settings, *format, g.json).await,
        Command::Lint { names, format } => lint::run(&settings, names, *format, g.json).await,
        Command::Reset { yes } => reset::run(&settings, &cwd, *yes, g.json).await,
        Command::Doctor => doctor::run(&settings, g.json).await,
        Command::Repair(a) => repair::run(&settings, a, g.json).await,
        Command::Baseline { name } => baseline::run(&settings, name.as_deref(), g.json).await,
        Command::Explain { topic } => explain::run_with(topic.as_deref(), g.json),
    };
    // What keel cleaned up of earlier runs that were killed (issue #13, item 13).
    for note in keel::shadow::take_notices() {
        err!("note: {note}");
    }
    match result {
        Ok(code) => code,
        Err(e) => report_error(&e, &settings.database_url, g.json),
    }
}
