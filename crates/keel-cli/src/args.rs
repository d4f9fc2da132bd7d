//! Command-line arguments (clap).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// keel: schema migrations for PostgreSQL, MySQL/MariaDB and SQLite that never leave a
/// database stuck.
#[derive(Debug, Parser)]
#[command(name = "keel", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings every command takes. Order of precedence: flag, environment, `.env`, keel.toml.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Target database (postgres://…/DB[?schema=NAME], mysql://…/DB, mariadb://…/DB, sqlite://FILE); no default: also DATABASE_URL in the environment or .env, or database_url in keel.toml
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Migrations directory [default: migrations/, or prisma/migrations/ when that exists]
    #[arg(long, global = true, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// Ledger table [default: _prisma_migrations in a Prisma project, else _keel_migrations]
    #[arg(long, global = true, value_name = "TABLE")]
    pub ledger_table: Option<String>,
    /// How long a migration step waits for a table lock before it is retried, e.g. 2s, 500ms [default: 2s]
    #[arg(long, global = true, value_name = "DURATION")]
    pub lock_timeout: Option<String>,
    /// How many times a step that timed out waiting for a lock is tried [default: 5]
    #[arg(long, global = true, value_name = "N")]
    pub lock_attempts: Option<u32>,
    /// The longest a migration step may run, e.g. 10min [default: the server's setting]
    #[arg(long, global = true, value_name = "DURATION")]
    pub statement_timeout: Option<String>,
    /// How long to wait for the deploy lock while another deploy holds it [default: 60s]
    #[arg(long, global = true, value_name = "DURATION")]
    pub deploy_lock_timeout: Option<String>,
    /// Scratch database keel may empty, for replaying migrations [default: one keel creates and drops; SQLite: memory]
    #[arg(
        long,
        env = "SHADOW_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub shadow_database_url: Option<String>,
    /// Machine-readable output: JSON (deploy: one event per line)
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write keel.toml, the migrations directory with migration_lock.toml, and schema.sql
    Init,
    /// Create an empty migration folder with a fresh 14-digit UTC version
    New {
        /// The migration's name: lowercase letters, digits and underscores
        name: String,
    },
    /// Apply pending migrations in order, under the deploy lock
    Deploy(DeployArgs),
    /// Show every migration and its state
    Status {
        /// Accepted for Prisma compatibility; status always exits 2 when anything is pending,
        /// modified, missing or out of order (or drifted, with --drift), 3 when a migration
        /// is failed, as `prisma migrate status` does since 4.3
        #[arg(long)]
        exit_code: bool,
        /// Also compare the live schema with its applied migrations (see `keel drift`)
        #[arg(long)]
        drift: bool,
    },
    /// Record a migration as applied or rolled back in the ledger (the schema is not touched)
    Resolve(ResolveArgs),
    /// Compare the live schema with the schema its applied migrations produce; exit 2 on drift. --revert brings the database back to its history, --record NAME writes the migration that records the change and marks it applied
    Drift(DriftArgs),
    /// Run a SQL script on the database under the deploy lock, with deploy's lock timeouts, data-loss counts and confirmation (Prisma's `db execute`); nothing is recorded in the ledger
    Execute(ExecuteArgs),
    /// Baseline an existing database without a ledger: with migrations on disk, record the longest prefix of the history that the database already has (found by replaying it in a shadow); without, capture the database as a first migration, verified in a shadow and recorded as applied
    Baseline {
        /// The first migration's name (when the directory holds no migrations; default `baseline`)
        name: Option<String>,
    },
    /// The whole health check: each finding with its code and the command that fixes it; exit 3 when a failed migration needs repair, 2 for other findings
    Doctor,
    /// Take a failed migration to the state after it (--finish) or before it (--revert), verified by introspection, then record the ledger
    Repair(RepairArgs),
    /// Write the next migration and its down.sql from the desired schema (schema.sql), verified in a shadow; then deploy it unless --create-only
    Plan(PlanArgs),
    /// Run the down.sql of the latest applied migrations, newest first, and mark them rolled back
    Rollback(RollbackArgs),
    /// For CI: the migrations reproduce schema.sql and every down.sql undoes its migration; exit 2 otherwise
    Check {
        /// The desired schema: a DDL file, or schema.prisma (a file or a folder) [default:
        /// schema.sql, else the Prisma project's schema.prisma]
        #[arg(long, value_name = "FILE")]
        schema: Option<std::path::PathBuf>,
        /// Against a schema.prisma, compare everything: do not keep the objects it cannot describe
        #[arg(long)]
        strict: bool,
    },
    /// Check migrations (default: the pending ones) for destructive and locking changes, with row counts from the database; exit 1 on an error
    Lint {
        /// Migration names [default: the pending migrations]
        #[arg(value_name = "MIGRATION")]
        names: Vec<String>,
        /// Output format
        #[arg(long, value_enum, default_value = "human")]
        format: LintFormat,
    },
    /// Development only: drop everything in the database (refused unless keel.toml marks it disposable, or it is a SQLite file in the project)
    Reset {
        /// Run without typing the database name (needed when not on a terminal)
        #[arg(long)]
        yes: bool,
    },
    /// Print the live schema: SQL DDL, JSON (the model), or a Mermaid ER diagram
    Inspect {
        /// Output format
        #[arg(long, value_enum, default_value = "sql")]
        format: InspectFormat,
    },
    /// Compare two schemas: SRC is empty, a database URL, migrations[=DIR], schema=FILE or ledger
    Diff(DiffArgs),
    /// Explain an error code (K3009) or a lint rule (drop-column): cause, fix and example; alone, list them all
    Explain {
        /// An error code or lint rule id
        topic: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Bring the database back to its history: run keel's plan from the live schema to the history's, verified before it commits
    #[arg(long, conflicts_with = "record")]
    pub revert: bool,
    /// Record the drift instead: write migration NAME (and its down.sql) from the change, check in a shadow that the history with it reproduces the database, and mark it applied
    #[arg(long, value_name = "NAME")]
    pub record: Option<String>,
    /// Run without asking (needed when not on a terminal)
    #[arg(long, requires = "revert")]
    pub yes: bool,
    /// With --revert: run even when it drops tables or columns holding data
    #[arg(long, requires = "revert")]
    pub allow_data_loss: bool,
    /// Print what --revert would run (with the data it drops) or what --record would write; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ExecuteArgs {
    /// The SQL script
    pub file: std::path::PathBuf,
    /// Run without asking (needed when not on a terminal)
    #[arg(long)]
    pub yes: bool,
    /// Run even when the script drops tables or columns holding data
    #[arg(long)]
    pub allow_data_loss: bool,
    /// Print the statements and the data they drop; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The schema to start from
    #[arg(long, value_name = "SRC")]
    pub from: String,
    /// The schema to arrive at
    #[arg(long, value_name = "SRC")]
    pub to: String,
    /// Print the SQL that turns --from into --to instead of the summary
    #[arg(long)]
    pub script: bool,
    /// Exit 2 when there is a difference, 0 when there is none
    #[arg(long)]
    pub exit_code: bool,
    /// Against a schema.prisma, compare everything: do not keep the objects it cannot describe
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Print the SQL that would run, in order, with the ledger writes; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Apply up to and including this version (or migration name)
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Accept applied migrations whose file changed since
    #[arg(long)]
    pub allow_modified: bool,
    /// Accept applied migrations whose folder is gone
    #[arg(long)]
    pub allow_missing: bool,
    /// Apply pending migrations that sort before the newest applied one
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Apply migrations that drop tables or columns holding data, or narrow column types
    #[arg(long)]
    pub allow_data_loss: bool,
}

#[derive(Debug, Args)]
#[group(skip)]
#[command(group = clap::ArgGroup::new("action").required(true).multiple(false))]
pub struct ResolveArgs {
    /// Record a pending or failed migration as applied without running it (a baseline)
    #[arg(long, value_name = "NAME", group = "action")]
    pub applied: Option<String>,
    /// Mark a failed migration as rolled back, so deploy runs it again
    #[arg(long, value_name = "NAME", group = "action")]
    pub rolled_back: Option<String>,
    /// With --rolled-back: mark it even though the ledger says some of its steps took effect (you undid them by hand)
    #[arg(long, requires = "rolled_back", conflicts_with = "applied")]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RepairArgs {
    /// The failed migration
    pub name: String,
    /// Run what remains of the migration (or keel's plan to the state after it), then record it as applied
    #[arg(long, conflicts_with = "revert", required_unless_present = "revert")]
    pub finish: bool,
    /// Undo what took effect (keel's plan back to the state before it), then mark it rolled back
    #[arg(long)]
    pub revert: bool,
    /// Run without asking (needed when not on a terminal)
    #[arg(long)]
    pub yes: bool,
    /// Run even when the repair drops tables or columns holding data
    #[arg(long)]
    pub allow_data_loss: bool,
    /// Print the diagnosis and the SQL; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum InspectFormat {
    /// SQL DDL that recreates the schema
    Sql,
    /// keel's schema model
    Json,
    /// A Mermaid erDiagram (tables, key columns, foreign keys)
    Mermaid,
    /// schema.prisma (Prisma's `db pull`): models, relation fields, @map, @db native types
    Prisma,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The migration's name: lowercase letters, digits and underscores
    pub name: String,
    /// The desired schema: a DDL file, or schema.prisma (a file or a folder) [default:
    /// schema.sql, else the Prisma project's schema.prisma]
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Against a schema.prisma, compare everything: do not keep the objects it cannot describe
    #[arg(long)]
    pub strict: bool,
    /// Write the files only; do not deploy to --database-url
    #[arg(long)]
    pub create_only: bool,
    /// A rename: OLD=NEW for a table, TABLE.OLD=NEW for a column (repeatable)
    #[arg(long, value_name = "OLD=NEW")]
    pub rename: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// How many of the latest applied migrations [default: 1]
    #[arg(long, conflicts_with = "to")]
    pub steps: Option<usize>,
    /// Roll back every migration applied after this version or name
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Run without asking (needed when not on a terminal)
    #[arg(long)]
    pub yes: bool,
    /// Run even when a down.sql drops tables or columns holding data
    #[arg(long)]
    pub allow_data_loss: bool,
    /// Print what would run; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LintFormat {
    /// Readable lines with the rule's doc
    Human,
    /// One JSON object
    Json,
    /// GitHub Actions annotations at file:line
    Github,
}
