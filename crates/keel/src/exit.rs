//! The process exit statuses of keel's commands (DESIGN.md, "Exit codes").

/// How a command ended, as the process exit status the CLI returns.
///
/// `status`'s 2 and 3 follow `prisma migrate status` since 4.3 (non-zero when migrations are
/// pending or failed); 130 and 143 are the shell's convention for SIGINT and SIGTERM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// 0: done; healthy; nothing pending.
    Success,
    /// 1: an error (every code except K3009), or `lint` found an error-severity finding.
    Error,
    /// 2: findings: pending, modified, missing or out-of-order migrations, drift, a check that
    /// failed, `diff --exit-code` with differences.
    Findings,
    /// 3: a failed migration needs repair (K3009).
    NeedsRepair,
    /// 130: interrupted (SIGINT, Ctrl-C).
    Interrupted,
    /// 143: terminated (SIGTERM).
    Terminated,
}

impl ExitStatus {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Error => 1,
            ExitStatus::Findings => 2,
            ExitStatus::NeedsRepair => 3,
            ExitStatus::Interrupted => 130,
            ExitStatus::Terminated => 143,
        }
    }
}

impl PartialEq<i32> for ExitStatus {
    fn eq(&self, other: &i32) -> bool {
        i32::from(self.code()) == *other
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s.code())
    }
}

impl std::fmt::Display for ExitStatus {
    /// The number, as the shell shows it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code())
    }
}
