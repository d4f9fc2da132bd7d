//! `keel`: the command-line interface. Parses arguments, calls the engine, prints. Nothing else
//! (STYLE.md habit 1): every command's logic lives in the `keel` crate.

mod args;
mod commands;
mod output;

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
            eprintln!("error[K1000]: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async {
        tokio::select! {
            code = commands::run(cli) => code,
            _ = tokio::signal::ctrl_c() => {
                // Leave nothing behind: drop the shadow databases this run created.
                keel::shadow::drop_all_created().await;
                eprintln!("interrupted");
                130
            }
        }
    });
    ExitCode::from(code)
}
