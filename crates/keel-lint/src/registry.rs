//! The rule table: declared once; the [`Rule`] enum, ids, severities, dialects, docs and the
//! dispatch are generated from it.

use crate::{Context, Finding, Severity};
use keel_core::Dialect;

macro_rules! rules {
    ($( $variant:ident => $module:ident, $id:literal, $severity:ident, [$($dialect:ident),*], $summary:literal; )*) => {
        /// A lint rule.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rule {
            $(
                #[doc = $summary]
                $variant,
            )*
        }

        impl Rule {
            /// Every rule, in table order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The stable id used in output, docs and `-- keel:allow`.
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// Error (loses data) or warning (risks a failed or long-locking deploy).
            pub fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)* }
            }

            /// One line.
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $summary,)* }
            }

            /// The databases the rule applies to.
            pub fn dialects(self) -> &'static [Dialect] {
                match self { $(Rule::$variant => &[$(Dialect::$dialect,)*],)* }
            }

            /// The rule's documentation (Markdown): what it does, why it is bad, an example,
            /// how to fix it.
            pub fn doc(self) -> &'static str {
                match self { $(Rule::$variant => crate::rules::$module::DOC,)* }
            }

            pub(crate) fn check(self, cx: &Context, out: &mut Vec<Finding>) {
                match self { $(Rule::$variant => crate::rules::$module::check(cx, out),)* }
            }
        }
    };
}

rules! {
    DropTable => drop_table, "drop-table", Error, [Postgres, Mysql, Sqlite], "Drops a table and every row in it.";
    DropColumn => drop_column, "drop-column", Error, [Postgres, Mysql, Sqlite], "Drops a column and every value in it.";
    NarrowingType => narrowing_type, "narrowing-type", Error, [Postgres, Mysql, Sqlite], "Changes a column to a type that can truncate values or reject them.";
    Rename => rename, "rename", Warning, [Postgres, Mysql, Sqlite], "Renames a table or column (breaks the running application), or drops and adds one of the same type (a rename that loses the data).";
    SetNotNull => set_not_null, "set-not-null", Warning, [Postgres, Mysql, Sqlite], "Makes a column NOT NULL, or adds one without a default, on a table that may hold rows.";
    UniqueMayFail => unique_may_fail, "unique-may-fail", Warning, [Postgres, Mysql, Sqlite], "Adds a unique index, unique constraint or primary key that duplicates make fail.";
    ForeignKeyNotValid => foreign_key_not_valid, "foreign-key-not-valid", Warning, [Postgres], "Adds a foreign key without NOT VALID: every row is checked under a lock.";
    IndexNotConcurrent => index_not_concurrent, "index-not-concurrent", Warning, [Postgres], "Creates an index on an existing table without CONCURRENTLY: writes block while it builds.";
    TableRewrite => table_rewrite, "table-rewrite", Warning, [Postgres], "Rewrites the whole table under an ACCESS EXCLUSIVE lock (a type change or a volatile default).";
    RemoveEnumValue => remove_enum_value, "remove-enum-value", Warning, [Postgres, Mysql], "Removes an enum value: fails, or loses values, where rows still use it.";
    MysqlTableCopy => mysql_table_copy, "mysql-table-copy", Warning, [Mysql], "An ALTER that MySQL/MariaDB runs by copying the whole table (ALGORITHM=COPY).";
    SqliteRedefineForeignKeys => sqlite_redefine_foreign_keys, "sqlite-redefine-foreign-keys", Warning, [Sqlite], "Redefines a table (copy, drop, rename) while foreign keys are enforced.";
    MixedNonTransactional => mixed_non_transactional, "mixed-non-transactional", Warning, [Postgres, Mysql, Sqlite], "Mixes a statement that cannot run in a transaction with other statements.";
    DropFunctionInUse => drop_function_in_use, "drop-function-in-use", Error, [Postgres], "Drops a function that a default, check, index, trigger, policy, view or function body still calls, or drops its callers with CASCADE.";
    ReplaceTrigger => replace_trigger, "replace-trigger", Warning, [Postgres, Mysql], "Replaces a trigger on an existing table: writes between its DROP and CREATE skip it (MySQL, no transaction), or wait for its lock.";
    MissingLockTimeout => missing_lock_timeout, "missing-lock-timeout", Warning, [Postgres], "Takes a lock on an existing table without a lock_timeout: the application's queries queue behind it.";
}

impl Rule {
    /// The rule with `id`.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.id() == id)
    }

    /// Whether the rule runs on `dialect`.
    pub fn applies_to(self, dialect: Dialect) -> bool {
        self.dialects().contains(&dialect)
    }

    /// The page `docs/rules/<id>.md`.
    pub fn markdown(self) -> String {
        let dialects: Vec<&str> = self
            .dialects()
            .iter()
            .map(|d| match d {
                Dialect::Postgres => "PostgreSQL",
                Dialect::Mysql => "MySQL/MariaDB",
                Dialect::Sqlite => "SQLite",
            })
            .collect();
        format!(
            "# {} ({})\n\n{}\n\nDatabases: {}. Allow it for one migration with `-- keel:allow {} reason=\"…\"` at the top of the file.\n\n{}",
            self.id(),
            self.severity(),
            self.summary(),
            dialects.join(", "),
            self.id(),
            self.doc().trim_start()
        )
    }
}
