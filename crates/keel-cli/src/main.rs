//! `keel`: the command-line interface. Parses arguments, calls the engine, prints. Nothing else
//! (STYLE.md habit 1): every command's logic lives in the `keel` crate.

#[macro_use]
mod output;
mod args;
mod commands;
mod prompt;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            err!("error[K1000]: cannot start the async runtime: {e}");
            return keel::ExitStatus::Error.into();
        }
    };
    let code = runtime.block_on(async {
        // SIGTERM is what CI runners and Kubernetes send; SIGINT is Ctrl-C. Either way, leave
        // nothing behind: drop the shadow databases and stop the private clusters this run
        // created (issue #13, item 13).
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            code = commands::run(cli) => code,
            _ = tokio::signal::ctrl_c() => {
                keel::shadow::drop_all_created().await;
                err!("interrupted");
                keel::ExitStatus::Interrupted
            }
            _ = terminated => {
                keel::shadow::drop_all_created().await;
                err!("terminated");
                keel::ExitStatus::Terminated
            }
        }
    });
    code.into()
}
