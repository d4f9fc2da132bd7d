//! An application that migrates its database at start-up with keel's engine: the migrations
//! in `examples/migrations/` are compiled into the binary, applied under the deploy lock (so
//! several instances starting together apply each migration once), and recorded in the same
//! ledger `keel status` reads.
//!
//! ```text
//! cargo run -p keel --example migrate_at_startup -- sqlite://app.db
//! cargo run -p keel --example migrate_at_startup -- postgres://postgres@127.0.0.1/test
//! ```

use std::time::Duration;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let url = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .unwrap_or_else(|| "sqlite://app.db".to_string());
    let migrator = match keel::embed_migrations!("$CARGO_MANIFEST_DIR/examples/migrations") {
        Ok(m) => m
            .lock_timeout(Duration::from_secs(2))
            .deploy_lock_timeout(Duration::from_secs(120)),
        Err(e) => {
            eprintln!("error[{}]: {e}", e.code());
            return std::process::ExitCode::FAILURE;
        }
    };
    // The deploy runs on its own task, as an application's start-up code would run it.
    let task = tokio::spawn(async move {
        migrator
            .deploy_reporting(&url, &mut |event| {
                if let keel::Event::MigrationApplied {
                    name, duration_ms, ..
                } = event
                {
                    println!("applied {name} ({duration_ms} ms)");
                }
            })
            .await
    });
    match task.await {
        Ok(Ok(report)) => {
            println!(
                "database ready: {} migration(s) applied, ledger {}",
                report.applied.len(),
                report.ledger_table
            );
            std::process::ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            // Every error has a stable code and its fix (docs/errors.md).
            eprintln!("error[{}]: {e}\n  fix: {}", e.code(), e.fix());
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("the migration task stopped: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
