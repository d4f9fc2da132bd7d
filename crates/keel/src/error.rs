//! The engine's errors. Each has a stable code and a fix; `docs/errors.md` lists them all.

use crate::events::StepFailure;
use keel_core::codes::ErrorCode;
use keel_core::migrations::MigrationsError;
use keel_driver::DriverError;
use std::path::PathBuf;

/// An error from an engine command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the migrations directory failed.
    #[error(transparent)]
    Migrations(#[from] MigrationsError),
    /// `schema.prisma` cannot be read as a desired schema.
    #[error(transparent)]
    Prisma(#[from] keel_prisma::PslError),
    /// The database said no, or could not be reached.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// `keel.toml` cannot be used.
    #[error("`{path}`: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Two `.env` files (the project's and `prisma/.env`) set one variable to different values.
    #[error("`{key}` is set differently in `{}` and `{}`; keel will not guess which database you mean", first.display(), second.display())]
    DotEnvConflict {
        /// The variable.
        key: String,
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
    /// A MySQL migration switches database (`USE`).
    #[error("migration `{name}` switches database with `USE` (line {line}): the rest of it and its ledger row would land in another database")]
    SwitchesDatabase {
        /// The migration.
        name: String,
        /// The line of the `USE`.
        line: usize,
    },
    /// A migration rolls back its own transaction (`ROLLBACK`, `ABORT`): what it did before
    /// is undone while the ledger would record it applied.
    #[error("migration `{name}` rolls back its own transaction (line {line}: `{statement}`): its steps before that are undone, yet the ledger would record it as applied")]
    RollsBackItself {
        /// The migration.
        name: String,
        /// The line of the statement.
        line: usize,
        /// The statement.
        statement: String,
    },
    /// The deploy lock was released during the deploy (by a migration).
    #[error("the deploy lock was released while `{after}` ran (it calls pg_advisory_unlock_all() or RELEASE_ALL_LOCKS(), or the lock was ended from outside); keel stopped before the next migration so that no other deploy runs beside it; applied: {}", if applied.is_empty() { "none".to_string() } else { applied.join(", ") })]
    LockLost {
        /// The migration after which the lock was gone.
        after: String,
        /// The migrations applied by this deploy.
        applied: Vec<String>,
    },
    /// The ledger keel would use is absent and the other ledger name exists.
    #[error(
        "keel would use the ledger `{expected}` ({why}), but it does not exist and `{found}` does"
    )]
    OtherLedger {
        /// The ledger keel chose.
        expected: String,
        /// The one that exists.
        found: String,
        /// Why keel chose `expected`.
        why: String,
    },
    /// Neither `migrations/` nor `prisma/migrations/` exists and none was named.
    #[error("no migrations directory here; looked for {}", looked.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(" and "))]
    NoMigrationsDir {
        /// The directories looked for.
        looked: Vec<PathBuf>,
    },
    /// The database has tables but no ledger (Prisma's P3005).
    #[error("the database is not empty ({} table{}: {}) and has no ledger table `{ledger_table}`", tables.len(), if tables.len() == 1 { "" } else { "s" }, list(tables, 5))]
    NonEmptyWithoutLedger {
        /// Its tables.
        tables: Vec<String>,
        /// The ledger table keel looked for.
        ledger_table: String,
        /// The first migration on disk, to name in the fix.
        first_migration: Option<String>,
    },
    /// Failed migrations block deploy (Prisma's P3009).
    #[error("{} failed migration{} in the ledger: {}", names.len(), if names.len() == 1 { "" } else { "s" }, list(names, 10))]
    FailedMigrations {
        /// The failed migrations.
        names: Vec<String>,
    },
    /// A migration failed to apply (Prisma's P3018).
    #[error("migration `{name}` failed at {failure}\n{}", what_applied(applied_before, *transactional, failure))]
    MigrationFailed {
        /// The migration.
        name: String,
        /// Where and why (boxed: keeps `Error` small).
        failure: Box<StepFailure>,
        /// Whether it ran in a transaction (then none of its steps remain).
        transactional: bool,
        /// Migrations this deploy applied before it.
        applied_before: Vec<String>,
    },
    /// Every attempt of a step timed out waiting for a lock held by other sessions; nothing of
    /// the migration took effect, and the ledger records the attempt as failed and rolled
    /// back, so the next deploy tries again.
    #[error("migration `{name}` gave up after {attempts} attempt{} waiting for a lock (lock_timeout {} ms each) at step {} of {} (line {}: `{}`); {}{}", if *attempts == 1 { "" } else { "s" }, lock_timeout.as_millis(), failure.step, failure.steps, failure.line, failure.first_line, failure.left_behind.as_ref().map_or_else(|| "nothing of it took effect".to_string(), |l| format!("nothing of it took effect but {l}")), if holders.is_empty() { String::new() } else { format!("\nlocks held by:\n{}", holders.iter().map(|h| format!("  - {h}")).collect::<Vec<_>>().join("\n")) })]
    LockWaitGaveUp {
        /// The migration.
        name: String,
        /// The step that waited (boxed: keeps `Error` small).
        failure: Box<StepFailure>,
        /// How many times it was tried.
        attempts: u32,
        /// The lock timeout of each attempt.
        lock_timeout: std::time::Duration,
        /// The sessions holding the locks, one line each.
        holders: Vec<String>,
    },
    /// The database connection (or a ledger write) failed while a migration was being applied.
    #[error("{source}\nwhile applying `{name}`. {}", interrupted_state(*transactional))]
    Interrupted {
        /// The migration being applied.
        name: String,
        /// Whether it ran in a transaction.
        transactional: bool,
        /// What failed.
        source: DriverError,
    },
    /// No shadow database could be had (Prisma's P3014).
    #[error("no shadow database could be used; tried:\n{}", tried.iter().map(|t| format!("  - {t}")).collect::<Vec<_>>().join("\n"))]
    ShadowUnavailable {
        /// Each strategy tried and why it failed.
        tried: Vec<String>,
    },
    /// The shadow database URL names the target database.
    #[error("the shadow database `{url}` is the target database itself; keel empties the shadow database before use")]
    ShadowIsTarget {
        /// The URL, redacted.
        url: String,
    },
    /// A migration failed while being replayed in the shadow database (Prisma's P3006).
    #[error("migration `{name}` failed to apply cleanly to the shadow database at {failure}")]
    ReplayFailed {
        /// The migration.
        name: String,
        /// Where and why (boxed: keeps `Error` small).
        failure: Box<StepFailure>,
    },
    /// A `keel diff` source could not be understood.
    #[error("`{source_text}` is not a diff source")]
    BadSource {
        /// What was given.
        source_text: String,
    },
    /// `keel execute` or `keel drift --revert` would drop data that is there.
    #[error("`{command}` would drop data: {}", losses.join("; "))]
    ExecuteWouldLoseData {
        /// The command (`keel execute fix.sql`).
        command: String,
        /// What would be dropped, with row counts.
        losses: Vec<String>,
    },
    /// `keel execute` or `keel drift --revert` was not confirmed.
    #[error("`{command}` not confirmed; nothing changed")]
    ExecuteNotConfirmed {
        /// The command.
        command: String,
    },
    /// A statement of `keel execute` or `keel drift --revert` failed.
    #[error("`{command}` failed at {failure}. {}", if *transactional { "It ran in a transaction: nothing changed".to_string() } else { format!("{} statement(s) before it took effect", failure.step.saturating_sub(1)) })]
    ExecuteStepFailed {
        /// The command.
        command: String,
        /// The failed statement (boxed: keeps `Error` small).
        failure: Box<StepFailure>,
        /// Whether it ran in a transaction (then nothing of it remains).
        transactional: bool,
    },
    /// After `keel drift --revert` or `--record`, the schema is not what it had to be.
    #[error("after `{command}` the schema is not {target}{}. Differences: {}", if *kept { "" } else { "; nothing was recorded" }, differences.join("; "))]
    DriftNotReconciled {
        /// The command.
        command: String,
        /// `the schema its applied migrations produce`, …
        target: String,
        /// Whether what ran stayed (statement by statement on MySQL/MariaDB).
        kept: bool,
        /// What differs.
        differences: Vec<String>,
    },
    /// `keel drift --revert` / `--record` refused before anything ran.
    #[error("`{command}` refused: {reason}")]
    DriftRefused {
        /// The command.
        command: String,
        /// Why.
        reason: String,
        /// What to run first (`keel deploy`, `keel doctor`).
        first: &'static str,
    },
    /// `keel explain` was given neither an error code nor a lint rule id.
    #[error("`{topic}` is neither an error code keel has nor a lint rule")]
    UnknownExplainTopic {
        /// What was given.
        topic: String,
    },
    /// The plan cannot be expressed on this database.
    #[error(transparent)]
    Render(#[from] keel_core::schema::render::RenderError),
    /// `keel baseline` cannot start a history here.
    #[error("cannot write a baseline: {reason}")]
    BaselineRefused {
        /// Why.
        reason: String,
    },
    /// The baseline file, replayed in a shadow, does not recreate the live schema.
    #[error("the baseline does not recreate the database exactly; nothing was written or recorded. Differences: {}", differences.join("; "))]
    BaselineMismatch {
        /// What differs (replayed → live).
        differences: Vec<String>,
    },
    /// Applied migrations were edited after they were applied.
    #[error("{} applied migration{} changed on disk since {} applied (checksum mismatch): {}", names.len(), if names.len() == 1 { "" } else { "s" }, if names.len() == 1 { "it was" } else { "they were" }, list(names, 10))]
    Modified {
        /// The migrations.
        names: Vec<String>,
    },
    /// The ledger has applied migrations that are not on disk.
    #[error("{} applied migration{} in the ledger {} no folder in `{}`: {}", names.len(), if names.len() == 1 { "" } else { "s" }, if names.len() == 1 { "has" } else { "have" }, dir.display(), list(names, 10))]
    Missing {
        /// The migrations.
        names: Vec<String>,
        /// The migrations directory.
        dir: PathBuf,
    },
    /// Pending migrations sort before the newest applied one.
    #[error("{} pending migration{} sort{} before the newest applied one (out of order): {}", names.len(), if names.len() == 1 { "" } else { "s" }, if names.len() == 1 { "s" } else { "" }, list(names, 10))]
    OutOfOrder {
        /// The migrations.
        names: Vec<String>,
    },
    /// `resolve` named a migration that is neither on disk nor in the ledger (Prisma's P3017).
    #[error("migration `{name}` is not in `{}`", dir.display())]
    MigrationNotFound {
        /// The name given.
        name: String,
        /// The migrations directory.
        dir: PathBuf,
    },
    /// `resolve --applied` on a migration that is already applied (Prisma's P3008).
    #[error("migration `{name}` is already recorded as applied")]
    AlreadyApplied {
        /// The migration.
        name: String,
    },
    /// `resolve --rolled-back` on a migration that is not failed (Prisma's P3012).
    #[error("migration `{name}` cannot be marked rolled back: it is {state}, not failed")]
    NotFailed {
        /// The migration.
        name: String,
        /// Its state.
        state: keel_core::ledger::State,
    },
    /// `resolve --rolled-back` on a migration whose ledger row says steps took effect: deploy
    /// would run it again from step 1 on a schema that has them (the P3009 trap again).
    #[error("migration `{name}` cannot be marked rolled back: the ledger says {steps} of its steps took effect, so `keel deploy` would run them again on a schema that already has them")]
    ResolveTookEffect {
        /// The migration.
        name: String,
        /// The steps that took effect (`applied_steps_count`).
        steps: u32,
    },
    /// `repair --finish`, but a step of the migration fails on an empty database too, so the
    /// state after it is unknown.
    #[error("cannot finish `{name}`: its step {step} fails in the shadow database too, whatever the data ({message}), so the state after it is unknown")]
    RepairNeedsFixedFile {
        /// The migration.
        name: String,
        /// 1-based step.
        step: usize,
        /// The server's error.
        message: String,
    },
    /// The repair SQL would drop data and `--allow-data-loss` was not given.
    #[error("repairing `{name}` would drop data: {}", losses.join(", "))]
    RepairWouldLoseData {
        /// The migration.
        name: String,
        /// `--finish` or `--revert`.
        flag: &'static str,
        /// What would be dropped, with row counts.
        losses: Vec<String>,
    },
    /// The repair was not confirmed.
    #[error("repair of `{name}` not confirmed; nothing changed")]
    RepairNotConfirmed {
        /// The migration.
        name: String,
        /// `--finish` or `--revert`.
        flag: &'static str,
    },
    /// A repair statement failed.
    #[error("repair of `{name}` failed at {failure}. {}", if *transactional { "It ran in a transaction: nothing changed and the ledger is as it was".to_string() } else { format!("{} statement(s) before it took effect; the ledger is as it was", failure.step.saturating_sub(1)) })]
    RepairStepFailed {
        /// The migration.
        name: String,
        /// `--finish` or `--revert`.
        flag: &'static str,
        /// The failed statement (boxed: keeps `Error` small).
        failure: Box<StepFailure>,
        /// Whether the repair ran in a transaction (then nothing of it remains).
        transactional: bool,
    },
    /// After the repair SQL, the schema is not the target state.
    #[error("after the repair SQL the schema of `{name}` is not {target}; the ledger was not written. Differences: {}", differences.join("; "))]
    RepairVerifyFailed {
        /// The migration.
        name: String,
        /// `the state after the migration` / `before`.
        target: String,
        /// target → live.
        differences: Vec<String>,
    },
    /// A `--rename` is malformed or names no pair in the plan.
    #[error("bad --rename: {given}")]
    BadRename {
        /// What was given, and why it is wrong.
        given: String,
    },
    /// A table or column disappears while one of the same shape appears, and keel could not
    /// ask whether it is a rename.
    #[error("probable rename: {rename}; keel does not guess (a drop and an add loses the data)")]
    AmbiguousRename {
        /// The candidate.
        rename: String,
        /// The flag that states it.
        flag: String,
    },
    /// The migration or down.sql keel wrote does not do what it must, replayed in a shadow.
    #[error("{what}; nothing was written. Differences: {}", differences.join("; "))]
    PlanVerifyFailed {
        /// Which check failed.
        what: String,
        /// What differs.
        differences: Vec<String>,
    },
    /// A migration to roll back has no down script.
    #[error("cannot roll back `{name}`: it has no down.sql")]
    NoDownScript {
        /// The migration.
        name: String,
    },
    /// A rollback's down script would drop data.
    #[error("rolling back would drop data: {}", losses.join(", "))]
    RollbackWouldLoseData {
        /// What, with row counts.
        losses: Vec<String>,
    },
    /// The rollback was not confirmed.
    #[error("rollback not confirmed; nothing changed")]
    RollbackNotConfirmed,
    /// A statement of a down script failed.
    #[error("rolling back `{name}` failed at {failure} of down.sql; {}", if *transactional { "it ran in a transaction: nothing changed".to_string() } else { format!("the {} before it took effect and the ledger still records the migration as applied", failure.step.saturating_sub(1)) })]
    RollbackStepFailed {
        /// The migration.
        name: String,
        /// The failed statement (boxed: keeps `Error` small).
        failure: Box<StepFailure>,
        /// Whether the down script ran in a transaction (then nothing of it remains).
        transactional: bool,
    },
    /// A down script did not restore the schema before its migration.
    #[error("rolling back `{name}` failed: {message}")]
    RollbackFailed {
        /// The migration.
        name: String,
        /// What happened, and what is known of the state.
        message: String,
    },
    /// Pending migrations drop data (the data-loss lint rules), and `--allow-data-loss` was
    /// not given.
    #[error("pending migrations would lose data; nothing was applied:\n{}", findings.iter().map(|f| format!("  - {f}")).collect::<Vec<_>>().join("\n"))]
    DataLoss {
        /// Each finding: migration, step, line, what and the rows at stake.
        findings: Vec<String>,
    },
    /// `keel reset` on a database not marked disposable.
    #[error("keel reset refused: {reason}")]
    ResetRefused {
        /// Why.
        reason: String,
    },
    /// `keel reset` was not confirmed.
    #[error("reset not confirmed; nothing was dropped")]
    ResetNotConfirmed,
    /// `--to VERSION` names no migration.
    #[error("`--to {target}` matches no migration version or name in `{}`", dir.display())]
    TargetNotFound {
        /// The version given.
        target: String,
        /// The migrations directory.
        dir: PathBuf,
    },
    /// `keel new` was given a name that is not `[a-z0-9_]+`.
    #[error("invalid migration name `{name}`: use lowercase letters, digits and underscores")]
    InvalidName {
        /// The name given.
        name: String,
    },
    /// A file could not be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

fn list(names: &[String], max: usize) -> String {
    let mut s = names
        .iter()
        .take(max)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        s.push_str(&format!(" and {} more", names.len() - max));
    }
    s
}

fn interrupted_state(transactional: bool) -> &'static str {
    if transactional {
        "It ran in one transaction with its ledger row: the server rolls it back, so nothing of it remains and it is still pending, unless the connection broke during COMMIT, in which case `keel status` shows it applied."
    } else {
        "It ran step by step: the ledger's applied_steps_count is the number of steps known to have taken effect; the step running when the connection broke may or may not have."
    }
}

fn what_applied(before: &[String], transactional: bool, f: &StepFailure) -> String {
    let mut s = String::new();
    if before.is_empty() {
        s.push_str("No migration was applied by this deploy before it.");
    } else {
        s.push_str(&format!(
            "Applied by this deploy before it: {}.",
            list(before, 5)
        ));
    }
    if transactional {
        s.push_str(" It ran in a transaction that was rolled back: none of its steps remain.");
    } else if f.step > 1 {
        s.push_str(&format!(
            " It ran step by step without a transaction: {} took effect, {} did not.",
            crate::events::steps_range(1, f.step - 1),
            crate::events::steps_range(f.step, f.steps)
        ));
    } else {
        s.push_str(" It ran step by step without a transaction: its first step failed, so none took effect.");
    }
    s
}

/// How to end a stuck session, for the database the holders are on: `: SELECT
/// pg_terminate_backend(pid)` for PostgreSQL backends, `: KILL id` for MySQL connections,
/// nothing when no holder is known.
fn end_session<'a>(holders: impl Iterator<Item = &'a str>) -> String {
    let mut pg = false;
    let mut my = false;
    for h in holders {
        // The holder lines are the drivers' (`PostgreSQL backend pid …`, `MySQL connection id
        // …`) or the lock-wait probe's (`… held now by: pid …` / `connection …`).
        pg |= h.starts_with("PostgreSQL") || h.contains("by: pid ");
        my |= h.starts_with("MySQL") || h.contains("by: connection ");
    }
    match (pg, my) {
        (true, false) => ": `SELECT pg_terminate_backend(pid)`".into(),
        (false, true) => ": `KILL id`".into(),
        (true, true) => ": `SELECT pg_terminate_backend(pid)` / `KILL id`".into(),
        (false, false) => String::new(),
    }
}

impl Error {
    /// The stable error code (`K` + Prisma's number where the meaning is the same).
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Migrations(e) => e.code(),
            Error::Driver(e) => e.code(),
            Error::Config { .. } => ErrorCode::K4020,
            Error::DotEnvConflict { .. } => ErrorCode::K4021,
            Error::NoMigrationsDir { .. } => ErrorCode::K4012,
            Error::OtherLedger { .. } => ErrorCode::K4019,
            Error::SwitchesDatabase { .. } => ErrorCode::K4018,
            Error::RollsBackItself { .. } => ErrorCode::K4007,
            Error::LockLost { .. } => ErrorCode::K4081,
            Error::BaselineRefused { .. } => ErrorCode::K4030,
            Error::BaselineMismatch { .. } => ErrorCode::K4031,
            Error::ShadowUnavailable { .. } => ErrorCode::K3014,
            Error::ShadowIsTarget { .. } => ErrorCode::K3014,
            Error::ReplayFailed { .. } => ErrorCode::K3006,
            Error::BadSource { .. } => ErrorCode::K4005,
            Error::Prisma(_) => ErrorCode::K1012,
            Error::UnknownExplainTopic { .. } => ErrorCode::K4008,
            Error::ExecuteWouldLoseData { .. } => ErrorCode::K4100,
            Error::ExecuteNotConfirmed { .. } => ErrorCode::K4101,
            Error::ExecuteStepFailed { .. } => ErrorCode::K4102,
            Error::DriftNotReconciled { .. } => ErrorCode::K4103,
            Error::DriftRefused { .. } => ErrorCode::K4104,
            Error::Render(_) => ErrorCode::K4006,
            Error::Interrupted { source, .. } => source.code(),
            Error::NonEmptyWithoutLedger { .. } => ErrorCode::K3005,
            Error::FailedMigrations { .. } => ErrorCode::K3009,
            Error::MigrationFailed { .. } => ErrorCode::K3018,
            Error::LockWaitGaveUp { .. } => ErrorCode::K4080,
            Error::Modified { .. } => ErrorCode::K4001,
            Error::Missing { .. } => ErrorCode::K4002,
            Error::OutOfOrder { .. } => ErrorCode::K4003,
            Error::MigrationNotFound { .. } => ErrorCode::K3017,
            Error::AlreadyApplied { .. } => ErrorCode::K3008,
            Error::ResolveTookEffect { .. } => ErrorCode::K3013,
            Error::NotFailed { .. } => ErrorCode::K3012,
            Error::TargetNotFound { .. } => ErrorCode::K4004,
            Error::RepairNeedsFixedFile { .. } => ErrorCode::K4050,
            Error::BadRename { .. } => ErrorCode::K4060,
            Error::DataLoss { .. } => ErrorCode::K4070,
            Error::ResetRefused { .. } => ErrorCode::K4071,
            Error::ResetNotConfirmed => ErrorCode::K4072,
            Error::AmbiguousRename { .. } => ErrorCode::K4061,
            Error::PlanVerifyFailed { .. } => ErrorCode::K4062,
            Error::NoDownScript { .. } => ErrorCode::K4063,
            Error::RollbackWouldLoseData { .. } => ErrorCode::K4064,
            Error::RollbackNotConfirmed => ErrorCode::K4065,
            Error::RollbackFailed { .. } | Error::RollbackStepFailed { .. } => ErrorCode::K4066,
            Error::RepairWouldLoseData { .. } => ErrorCode::K4051,
            Error::RepairNotConfirmed { .. } => ErrorCode::K4052,
            Error::RepairStepFailed { .. } => ErrorCode::K4053,
            Error::RepairVerifyFailed { .. } => ErrorCode::K4054,
            Error::InvalidName { .. } => ErrorCode::K4010,
            Error::Write { .. } => ErrorCode::K4015,
        }
    }

    /// The exact thing to do about it, as shown under the error.
    pub fn fix(&self) -> String {
        match self {
            Error::Migrations(MigrationsError::MissingFile { .. }) => "add the folder's migration.sql, or remove the empty folder".into(),
            Error::Migrations(MigrationsError::ProviderMismatch { .. } | MigrationsError::UnknownProvider { .. }) => "point --database-url at the database this history was written for, or start a new migrations directory for this one".into(),
            Error::Migrations(MigrationsError::Directive { .. }) => "fix the `-- keel:` comment (known: keel:no-transaction, keel:lock-timeout=5s, keel:statement-timeout=10min)".into(),
            Error::Migrations(MigrationsError::DuplicateName { .. }) => "keep one of the two files".into(),
            Error::Migrations(MigrationsError::BadName { .. }) => "rename the folder to `<version>_<name>` with a numeric version and letters, digits and `_` (e.g. 20260101000000_add_users)".into(),
            Error::Migrations(MigrationsError::BadLockFile { .. }) => "restore migration_lock.toml to `provider = \"postgresql\"` (or mysql, sqlite)".into(),
            Error::Migrations(MigrationsError::NulByte { .. }) => "remove the NUL byte from the file (SQL text cannot hold one); nothing was run".into(),
            Error::Migrations(_) => "check the path and its permissions".into(),
            Error::Driver(DriverError::InvalidUrl { .. }) => "use postgres://USER:PASSWORD@HOST:5432/DB, mysql://USER:PASSWORD@HOST:3306/DB or sqlite://FILE".into(),
            Error::Driver(DriverError::Connect { message, .. }) if message.to_ascii_lowercase().contains("too many connections") || message.contains("max_user_connections") => "the server (or this role) has no free connection left (max_connections, a role's CONNECTION LIMIT, MySQL max_user_connections): close idle sessions or raise the limit; the user and password are fine".into(),
            Error::Driver(DriverError::Connect { .. }) => "check that the server is running and reachable, and the user and password".into(),
            Error::Driver(DriverError::Tls { message, .. }) => {
                let m = message.to_ascii_lowercase();
                if m.contains("not valid for name") {
                    "connect with the host name the server's certificate names (see the message), or use sslmode=verify-ca (PostgreSQL) / ssl-mode=VERIFY_CA (MySQL), which checks the CA but not the name".into()
                } else if m.contains("causedasendentity") {
                    "the server presents a CA certificate as its own: give the server a certificate signed by a CA (CA:FALSE), or use sslmode=require / ssl-mode=REQUIRED, which encrypts without checking it".into()
                } else if m.contains("unknownissuer") || m.contains("unknown issuer") {
                    "point sslrootcert= (PostgreSQL) / ssl-ca= (MySQL) at the CA certificate that signed the server's certificate".into()
                } else if m.contains("does not support tls") || m.contains("does not support ssl") {
                    "enable TLS on the server (PostgreSQL ssl = on; MariaDB ssl_cert/ssl_key), or, on a network you trust, lower the URL's sslmode / ssl-mode to prefer".into()
                } else if m.contains("no such file") {
                    "the certificate file named in the URL does not exist: fix the sslrootcert= / ssl-ca= path".into()
                } else {
                    "check the URL's TLS options (PostgreSQL sslmode, sslrootcert; MySQL ssl-mode, ssl-ca) against the server's certificate".into()
                }
            }
            Error::Driver(DriverError::DatabaseNotFound { database, .. }) => format!("create the database first (e.g. `CREATE DATABASE {database}`)"),
            Error::Driver(DriverError::LockTimeout { holder, .. }) => format!(
                "wait for the other deploy to finish, or raise --deploy-lock-timeout; if the holder is stuck, end that session{}",
                end_session(holder.iter().map(String::as_str))
            ),
            Error::Driver(DriverError::PooledSession) => "give keel a direct connection to the server for migrations (Prisma's `directUrl`): the server's own host and port (5432), not the pooler's; or a PgBouncer database with `pool_mode=session`".into(),
            Error::Driver(DriverError::NoCurrentSchema { .. }) => "name the schema in the URL (`?schema=public`, Prisma's convention), create the schema the search_path names, or fix the setting (`ALTER ROLE name SET search_path = public`)".into(),
            Error::Driver(DriverError::ConnectionLost { .. }) => "run `keel status` to see what was recorded, then `keel deploy` again".into(),
            Error::Driver(DriverError::BadLedger { table, .. }) => format!("`{table}` is not a ledger keel can read: if another tool owns that table, give keel its own with --ledger-table; else restore Prisma's columns (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)"),
            Error::Driver(_) => "see the database's message above".into(),
            Error::Interrupted { name, transactional: false, .. } => format!("run `keel status`: if `{name}` shows failed, check which of its steps took effect, then `keel resolve --rolled-back {name}` or `--applied {name}`; if it shows pending or applied, `keel deploy` again"),
            Error::Interrupted { .. } => "run `keel status` to see what was recorded, then `keel deploy` again".into(),
            Error::ShadowUnavailable { .. } => "give keel a database it may empty: --shadow-database-url (or SHADOW_DATABASE_URL), or grant the user CREATEDB (PostgreSQL) / CREATE (MySQL) so keel can create and drop one".into(),
            Error::ShadowIsTarget { .. } => "point --shadow-database-url at a separate, disposable database".into(),
            Error::ReplayFailed { name, .. } => format!("fix `{name}` so that it applies to an empty database in order, or check that the history is complete"),
            Error::Prisma(_) => "fix the schema at that line and column (`prisma validate` reports the same); a DDL file is named `.sql`".into(),
            Error::BadSource { .. } => "use empty, migrations[=DIR], schema=FILE, ledger, or a database URL".into(),
            Error::UnknownExplainTopic { .. } => "run `keel explain` alone: it lists every code and rule".into(),
            Error::ExecuteWouldLoseData { command, .. } => format!("keep the data first (copy the rows elsewhere), or accept the loss with `{command} --allow-data-loss`"),
            Error::ExecuteNotConfirmed { command } => format!("run `{command}` on a terminal and confirm, or add --yes (`--dry-run` shows what it runs)"),
            Error::ExecuteStepFailed { command, .. } => format!("fix the cause the server names, then `{command}` again (`keel drift` shows where the schema stands)"),
            Error::DriftNotReconciled { .. } => "run `keel drift` to see where the schema stands now; write the remaining change by hand".into(),
            Error::DriftRefused { first: "keel deploy", .. } => "run `keel deploy` first, then `keel drift` again".into(),
            Error::DriftRefused { first, .. } => format!("run `{first}`: it names what to do first"),
            Error::Render(_) => "write this change by hand in a migration".into(),
            Error::BaselineRefused { .. } => "baseline a database that has tables and no ledger rows; with migrations on disk run `keel baseline` without a name".into(),
            Error::BaselineMismatch { .. } => "the schema holds something keel's model cannot express yet (see the differences); write the baseline migration by hand and record it with `keel resolve --applied NAME`".into(),
            Error::DotEnvConflict { key, .. } => format!("keep `{key}` in one of the two files (Prisma refuses the same conflict), or set it in the environment, which wins over both"),
            Error::RollsBackItself { .. } => "end the migration's transaction with COMMIT (or drop its own BEGIN … COMMIT: keel runs a migration in a transaction); to undo something, write the statements that undo it".into(),
            Error::SwitchesDatabase { .. } => "qualify the names instead (`other_db.table`), or deploy that database with its own URL; a migration must stay in the database it is recorded in".into(),
            Error::LockLost { after, .. } => format!("remove the lock release from `{after}` (keel holds the deploy lock for the whole deploy), then `keel deploy` again to apply the rest"),
            Error::OtherLedger { found, .. } => format!("to keep the history recorded in `{found}`, pass `--ledger-table {found}` (or set `ledger_table = \"{found}\"` in keel.toml)"),
            Error::NoMigrationsDir { .. } => "run keel in the project directory (where migrations/ or prisma/migrations/ is), pass --migrations DIR, or create the directory with `keel init`".into(),
            Error::Config { .. } => "fix keel.toml (keys: database_url, migrations, ledger_table, lock_timeout, lock_attempts, statement_timeout, deploy_lock_timeout, shadow_database_url; table [database] with disposable)".into(),
            Error::NonEmptyWithoutLedger { first_migration, .. } => match first_migration {
                Some(_) => "`keel baseline` finds how much of the history the database already has (replayed in a shadow database) and records exactly that as applied; then `keel deploy` applies the rest".into(),
                None => "`keel baseline` captures the existing schema as a first migration, verified and recorded as applied".into(),
            },
            Error::ResolveTookEffect { name, .. } => format!("`keel repair {name} --revert` undoes what took effect and marks it rolled back (verified); `keel repair {name} --finish` runs the rest; `keel doctor` measures which it is. `keel resolve --rolled-back {name} --force` if you undid the steps by hand"),
            Error::FailedMigrations { names } => {
                let n = names.first().map(String::as_str).unwrap_or("NAME");
                format!("`keel doctor` measures what `{n}` left behind and why it failed; then `keel repair {n} --finish` or `--revert` (or the `keel resolve` it recommends)")
            }
            Error::MigrationFailed { name, transactional, .. } => {
                if *transactional {
                    format!("fix the cause, then `keel resolve --rolled-back {name}` and `keel deploy`")
                } else {
                    format!("`keel doctor` shows which steps took effect and why it failed; fix the cause, then `keel repair {name} --finish` (runs the rest) or `keel repair {name} --revert` (undoes what took effect)")
                }
            }
            Error::LockWaitGaveUp { holders, .. } => format!("the holders above block the step: wait for them to finish (or end them{}) and run `keel deploy` again; or allow longer waits with --lock-timeout / --lock-attempts (keel.toml lock_timeout, lock_attempts; -- keel:lock-timeout= in the migration)", end_session(holders.iter().map(String::as_str))),
            Error::Modified { .. } => "restore the files as they were applied (git checkout), put the change in a new migration (`keel new NAME`), or accept with `keel deploy --allow-modified`".into(),
            Error::Missing { .. } => "restore the folders (git checkout), or accept with `keel deploy --allow-missing`".into(),
            Error::OutOfOrder { .. } => "give the migrations a version newer than the newest applied one (rename the folders), or apply them anyway with `keel deploy --allow-out-of-order`".into(),
            Error::MigrationNotFound { .. } => "run `keel status` for the migration names".into(),
            Error::AlreadyApplied { .. } => "nothing to do; `keel status` shows the ledger".into(),
            Error::NotFailed { .. } => "only a failed migration can be marked rolled back; `keel status` shows the states".into(),
            Error::TargetNotFound { .. } => "give a version or a name that `keel status` lists".into(),
            Error::DataLoss { .. } => "keep the data first (copy it elsewhere); then accept with `keel deploy --allow-data-loss`, or record the decision in the migration: `-- keel:allow drop-column reason=\"…\"` (rule ids in docs/rules/)".into(),
            Error::ResetRefused { .. } => "reset only development databases: in that project's keel.toml, set its `database_url` and add `[database]` with `disposable = true`; or use a SQLite file inside the directory of keel.toml".into(),
            Error::ResetNotConfirmed => "run `keel reset` on a terminal and type the database name, or add --yes".into(),
            Error::BadRename { .. } => "use --rename OLD=NEW for a table or --rename TABLE.OLD=NEW for a column, naming a table or column that disappears and one that appears".into(),
            Error::AmbiguousRename { flag, .. } => format!("say which it is: `{flag}` (a rename), or run `keel plan` on a terminal and answer; to drop and add instead, answer no there"),
            Error::PlanVerifyFailed { .. } => "the schema holds something keel's model cannot express yet (see the differences); write this migration by hand (`keel new NAME`)".into(),
            Error::NoDownScript { name } => format!("write `{name}`'s down.sql by hand (the SQL that undoes it), or revert with a new migration"),
            Error::RollbackWouldLoseData { .. } => "keep the data first (copy the rows elsewhere), or accept the loss with `keel rollback --allow-data-loss`".into(),
            Error::RollbackNotConfirmed => "run `keel rollback` on a terminal and confirm, or add --yes".into(),
            Error::RollbackFailed { .. } | Error::RollbackStepFailed { .. } => "fix the down.sql; `keel status` and `keel doctor` show where the database stands".into(),
            Error::RepairNeedsFixedFile { name, step, .. } => format!("fix step {step} of `{name}` (it fails whatever the data), then run `keel repair {name} --finish` again; or `keel repair {name} --revert`"),
            Error::RepairWouldLoseData { name, flag, .. } => format!("keep the data first (copy the rows elsewhere), or accept the loss with `keel repair {name} {flag} --allow-data-loss`"),
            Error::RepairNotConfirmed { name, flag } => format!("run `keel repair {name} {flag}` on a terminal and confirm, or add --yes"),
            Error::RepairStepFailed { name, flag, .. } => format!("fix the cause the server names (`keel doctor` measures it), then `keel repair {name} {flag}` again"),
            Error::RepairVerifyFailed { name, .. } => format!("run `keel doctor` to see where `{name}` stands now; finish it by hand and record it with `keel resolve --applied {name}` (or `--rolled-back`)"),
            Error::InvalidName { .. } => "for example: `keel new add_users_email`".into(),
            Error::Write { .. } => "check the directory's permissions and free space".into(),
        }
    }
}
