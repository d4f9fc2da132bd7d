//! Every user-facing error code keel prints, with its cause and fix: the one table from which
//! `docs/errors.md` is generated (checked by a test: `KEEL_UPDATE_DOCS=1 cargo test -p keel-core`
//! rewrites it) and which `keel explain` will print.
//!
//! Codes are `K` + Prisma's number where the meaning is the same (`K3009` is Prisma's `P3009`);
//! keel's own codes start at `K4000`.

codes! {
    K1000 {
        cause: r"keel could not start its async runtime (out of threads or memory).",
        fix: r"Retry; check the machine's limits.",
    },
    K1001 {
        cause: r"The database server could not be reached, or refused the login.",
        fix: r"Check that the server runs and is reachable, and the user and password.",
    },
    K1002 {
        cause: r"The deploy lock was not free within `--deploy-lock-timeout` (default 60 s): another deploy (keel or Prisma) holds it. The message names the holder: PostgreSQL backend pid, `application_name`, state, since when and its last query; MySQL connection id, user, host, query; SQLite the process holding the database file's lock.",
        fix: r"Wait for the other deploy, or raise `--deploy-lock-timeout`; if the holder is stuck, end that session (`SELECT pg_terminate_backend(pid)`, `KILL id`).",
    },
    K1003 {
        cause: r"The database named in the URL does not exist.",
        fix: r"Create it first (`CREATE DATABASE name`).",
    },
    K1009 {
        cause: r"The server rejected a statement keel issued for itself (ledger read or write).",
        fix: r"Read the server's message; usually a permission is missing on the ledger table.",
    },
    K1010 {
        cause: r"The ledger table lacks Prisma's columns (a table of that name made by something else), or a row has values keel cannot read (the table was altered by hand).",
        fix: r#"Restore the ledger's columns to Prisma's definition (see DESIGN.md, "The ledger")."#,
    },
    K1011 {
        cause: r#"A TLS connection could not be made (Prisma's P1011): the server offers no TLS while the URL requires it (`sslmode=require`, `ssl-mode=REQUIRED`), its certificate is not signed by the CA given (`sslrootcert=`, `ssl-ca=`: "UnknownIssuer"), does not name the host (`verify-full`, `VERIFY_IDENTITY`: "not valid for name"), is itself a CA, or the certificate file cannot be read."#,
        fix: r"The fix printed names the case: connect with the host name the certificate names, or use `verify-ca` / `VERIFY_CA`; point `sslrootcert` / `ssl-ca` at the CA that signed the server's certificate; enable TLS on the server; fix the file path.",
    },
    K1013 {
        cause: r"The database URL names no database keel may act on: none is configured (no `DATABASE_URL` in the environment or `.env`, no `--database-url`, no `database_url` in keel.toml; keel has no default database), it is blank, malformed, or of an unsupported scheme; it names no database (`postgres://host` alone: the server would pick one); it names `template0`/`template1` (every later database would inherit the tables); a user name or password holds an unencoded `/ ? # @`; `?schema=` is empty; a SQLite parameter other than `mode=ro|rw|rwc|memory`. The message never shows a URL that did not parse, only its scheme and host.",
        fix: r"Set the URL (`postgres://USER:PASSWORD@HOST:5432/DB`, `mysql://…/DB` / `mariadb://…/DB`, `sqlite://FILE`), name the database, percent-encode the password (`/` is `%2F`, `@` `%40`).",
    },
    K1017 {
        cause: r"The connection was lost while keel worked (server restart, killed session, network). keel never retries, so no step runs twice. A transactional migration leaves no trace (or, if the connection broke after the server had the whole transaction, is wholly applied); a step-by-step one has a truthful `applied_steps_count`, and the step that was running may or may not have taken effect.",
        fix: r"Run `keel status` to see what was recorded: pending or applied, `keel deploy` again; failed, `keel doctor` measures which steps took effect and `keel repair` finishes or reverts it.",
    },
    K1020 {
        cause: r#"The connection is not a stable database session: a pooler in transaction or statement mode (PgBouncer, RDS Proxy, Supavisor) hands the server session to other clients between transactions, so the deploy lock and session settings would not hold (or sqlx's prepared statements collide: `prepared statement "sqlx_s_1" already exists`). keel checks before it takes the deploy lock; nothing was changed and no lock is left behind. See [running keel in production](production.md#connection-poolers-pgbouncer-rds-proxy-supavisor)."#,
        fix: r"Give keel a direct connection for migrations (the server's own host and port, Prisma's `directUrl`), or a pooler database in `pool_mode = session`.",
    },
    K1021 {
        cause: r"PostgreSQL: the session has no current schema. Its `search_path` (set on the role or the database, e.g. `ALTER ROLE app SET search_path = app`) names only schemas that do not exist, and the URL has no `?schema=`: the ledger and every unqualified name in the migrations would resolve to nothing (`no schema has been selected to create in`), and introspection would read every schema as an extra one.",
        fix: r"Name the schema in the URL (`?schema=public`, Prisma's convention; deploy creates it when missing), create the schema the search_path names, or fix the setting (`ALTER ROLE name SET search_path = public`).",
    },
    K3005 {
        cause: r"The database has tables but no ledger: deploying the whole history would collide with what exists.",
        fix: r"`keel baseline`: with migrations on disk it replays them in a shadow database, finds the longest prefix whose schema equals the database's, and records exactly that prefix as applied (one transaction, under the deploy lock); then `keel deploy` applies the rest. Without migrations it captures the database as a first migration. (Recording only the first migration with `keel resolve --applied` and deploying would re-run the others on a schema that already has them.)",
    },
    K3006 {
        cause: r"A migration failed while being replayed in the shadow database (`keel diff` with `migrations`, `schema=` or `ledger`). The message names the migration, step, line and the server's error.",
        fix: r"Fix the migration so that the history applies to an empty database in order, or check that the history is complete.",
    },
    K3008 {
        cause: r"`resolve --applied` named a migration already recorded as applied.",
        fix: r"Nothing to do; `keel status` shows the ledger.",
    },
    K3009 {
        cause: r"A migration in the ledger is failed (started, never finished, not rolled back); deploy refuses until someone says what state the database is in. `keel doctor` reports it with a diagnosis (see [below](#keel-doctor-findings)).",
        fix: r"`keel doctor` measures what it left behind (which of its steps took effect) and why it failed; then `keel repair NAME --finish` or `--revert` (see below), or the `keel resolve` it recommends. By hand: find out what it left behind (`keel status` shows its logs and `applied_steps_count`), then `keel resolve --rolled-back NAME` (nothing of it remains, or you reverted it; fix the file and deploy) or `keel resolve --applied NAME` (you completed it by hand).",
    },
    K3012 {
        cause: r"`resolve --rolled-back` named a migration that is not failed.",
        fix: r"Only a failed migration can be marked rolled back; `keel status` shows the states.",
    },
    K3013 {
        cause: r"`keel resolve --rolled-back` refused: the ledger row of the failed migration says some of its steps took effect (`applied_steps_count` > 0, a step-by-step migration that failed part-way). Marking it rolled back would make `keel deploy` run it again from step 1 on a schema that already has those steps, and fail again.",
        fix: r"`keel repair NAME --revert` undoes what took effect (verified by introspection) and marks it rolled back; `keel repair NAME --finish` runs the rest instead. If you undid the steps by hand, `keel resolve --rolled-back NAME --force`.",
    },
    K3014 {
        cause: r"No shadow database could be used. The message lists each strategy tried (the given `--shadow-database-url`, a database keel creates and drops, a private cluster from the local PostgreSQL binaries, a temporary schema in a rolled-back transaction on the target) and why it failed; or the given shadow URL is the target database itself.",
        fix: r"Pass `--shadow-database-url` (or `SHADOW_DATABASE_URL`) naming a disposable database, or grant the user the right to create databases (PostgreSQL `CREATEDB`, MySQL `CREATE`).",
    },
    K3015 {
        cause: r"A migration folder has no `migration.sql`.",
        fix: r"Add the file, or remove the empty folder.",
    },
    K3017 {
        cause: r"`resolve` named a migration that is neither on disk nor in the ledger.",
        fix: r"Use a name `keel status` lists.",
    },
    K3018 {
        cause: r"A migration failed to apply. The message gives the step number, its line and first line, the server's error and code, and what was and was not applied; the ledger row keeps the same in `logs`. On PostgreSQL and SQLite a transactional migration left nothing behind; on MySQL/MariaDB (and for `-- keel:no-transaction` migrations) steps before the failed one took effect.",
        fix: r"Transactional (nothing took effect): fix the cause, then `keel resolve --rolled-back NAME` and `keel deploy`. Step by step (MySQL/MariaDB, `-- keel:no-transaction`): `keel doctor` shows which steps took effect and why it failed; fix the cause, then `keel repair NAME --finish` (runs the rest) or `keel repair NAME --revert` (undoes what took effect).",
    },
    K3019 {
        cause: r"`migration_lock.toml` names another provider than the database (or one keel does not support).",
        fix: r"Point `--database-url` at the database this history was written for, or start a new migrations directory.",
    },
    K4001 {
        cause: r"An applied migration's file changed since it was applied (checksum mismatch; CRLF/LF differences are accepted).",
        fix: r"Restore the file as applied (`git checkout`), put the change in a new migration (`keel new NAME`), or accept with `keel deploy --allow-modified`.",
    },
    K4002 {
        cause: r"The ledger records an applied migration whose folder is not on disk.",
        fix: r"Restore the folder, or accept with `keel deploy --allow-missing`.",
    },
    K4003 {
        cause: r"A pending migration sorts before the newest applied one (out of order, typically after a branch merge).",
        fix: r"Give it a newer version (rename the folder), or apply it anyway with `keel deploy --allow-out-of-order`.",
    },
    K4004 {
        cause: r"`deploy --to VERSION` or `rollback --to VERSION` matches no migration (rollback: no applied one).",
        fix: r"Give a version or name that `keel status` lists.",
    },
    K4005 {
        cause: r"A `keel diff` source is not understood.",
        fix: r"Use `empty`, `migrations[=DIR]`, `schema=FILE`, `ledger`, or a database URL.",
    },
    K4006 {
        cause: r"The plan holds a change this database cannot express (e.g. an enum type on SQLite, a generated column's expression changed in place).",
        fix: r"Write that change by hand in a migration.",
    },
    K4007 {
        cause: r"A migration rolls back its own transaction: a plain `ROLLBACK` or `ABORT` (not `ROLLBACK TO SAVEPOINT`). The statements before it would be undone while the ledger records the migration as applied, and a replay of the history would disagree with the database. Refused before anything runs.",
        fix: r"End the migration's transaction with `COMMIT`, or drop its own `BEGIN … COMMIT` (keel runs each migration in a transaction where the database allows); to undo something, write the statements that undo it.",
    },
    K4010 {
        cause: r"`keel new` was given a name that is not `[a-z0-9_]+`.",
        fix: r"For example `keel new add_users_email`.",
    },
    K4011 {
        cause: r"A `-- keel:` directive at the top of a migration is unknown or has a bad value.",
        fix: r"Known: `-- keel:no-transaction`, `-- keel:lock-timeout=5s`, `-- keel:statement-timeout=10min`.",
    },
    K4012 {
        cause: r"There is no migrations directory here (neither `migrations/` nor `prisma/migrations/`: keel run from a monorepo root or the wrong directory, nothing was written), the named one does not exist, or a migration file cannot be read or is not UTF-8.",
        fix: r"Run keel in the project directory or pass `--migrations DIR` (`keel init` creates one); check the path and its permissions; save the file as UTF-8.",
    },
    K4013 {
        cause: r"Two files give the same migration name (e.g. `1_a.sql` and `1_a.up.sql`).",
        fix: r"Keep one.",
    },
    K4014 {
        cause: r"`migration_lock.toml` is not valid TOML or has no `provider`.",
        fix: r#"Restore it to `provider = "postgresql"` (or `mysql`, `sqlite`)."#,
    },
    K4015 {
        cause: r"keel could not write a file (`init`, `new`).",
        fix: r"Check the directory's permissions and free space.",
    },
    K4016 {
        cause: r"A migration folder's name is not `<numeric version>_<name>`, or holds whitespace, control characters or `..`.",
        fix: r"Rename the folder, e.g. `20260101000000_add_users`.",
    },
    K4017 {
        cause: r"A SQL file (a migration, a `down.sql`, a schema file) holds a NUL byte. The servers take statements as C strings: PostgreSQL breaks the connection, SQLite stops parsing there (and would spin). The message gives the file, line and column; nothing was run.",
        fix: r"Remove the NUL byte (often a file saved by a binary-unsafe tool, or `printf` with `\0`).",
    },
    K4018 {
        cause: r"A MySQL/MariaDB migration switches database with `USE`: the rest of it and its ledger row would land in another database. Refused before anything runs.",
        fix: r"Qualify the names (`other_db.table`), or deploy that database with its own URL.",
    },
    K4019 {
        cause: r"The ledger keel would choose does not exist, but the other name does: `migration_lock.toml` (a Prisma project) means `_prisma_migrations`, while the history so far was recorded in `_keel_migrations`. Nothing was written.",
        fix: r"Pass `--ledger-table _keel_migrations` (or `ledger_table` in keel.toml) to keep that history.",
    },
    K4020 {
        cause: r"`keel.toml` or a `.env` file cannot be read, has an unknown key, or a bad value; or the ledger table name (`--ledger-table`, `ledger_table`) is not a plain name of letters, digits and `_` of at most 63 bytes (schema-qualified, quotes or other characters that could reach SQL, or a name PostgreSQL would truncate).",
        fix: r"Keys: `database_url`, `migrations`, `ledger_table`, `lock_timeout`, `lock_attempts` (at least 1), `statement_timeout`, `deploy_lock_timeout`, `shadow_database_url`, and `[database]` `disposable`; choose the ledger's schema with the URL's `?schema=`.",
    },
    K4021 {
        cause: r"The project's `.env` and `prisma/.env` set `DATABASE_URL` (or `SHADOW_DATABASE_URL`) to different values; keel will not guess which database is meant (Prisma refuses the same conflict).",
        fix: r"Keep the variable in one file, or set it in the environment, which wins over both.",
    },
    K4030 {
        cause: r"`keel baseline` refused: the ledger already has rows, the database is empty, or a NAME was given for a first migration while the migrations directory already holds migrations.",
        fix: r"Baseline only a database with tables and no ledger rows; with migrations on disk run `keel baseline` without a name (it records the prefix of the history the database has).",
    },
    K4031 {
        cause: r"The baseline does not match the database: the first migration keel wrote, replayed in a shadow database, does not recreate the live schema exactly (the schema holds something keel's model cannot express yet); or, with migrations on disk, no prefix of the history replays to the live schema (a hand change, or a history that differs). Nothing was written or recorded; the message lists the differences (for a history, from the closest prefix).",
        fix: r"Write the baseline migration by hand and record it with `keel resolve --applied NAME`; for a history, bring the database to the closest prefix's schema (or add a migration that records the difference), then `keel baseline` again.",
    },
    K4040 {
        cause: r"`keel doctor` finding: drift. The live schema differs from the schema its applied migrations produce (replayed in a shadow database); each difference is listed. Checked only when no migration is failed and there is no K3005 finding.",
        fix: r"`keel drift` prints both reconcile scripts: the SQL that brings the database back to its history, and the SQL that records the change in the history instead (put it in a new migration with `keel new NAME`, then `keel resolve --applied NAME`).",
    },
    K4041 {
        cause: r"`keel doctor` finding: migrations are pending (never applied, or rolled back so that deploy runs them again). Doctor does not check them against the data.",
        fix: r"`keel deploy`. After `keel repair NAME --revert`, fix the cause first.",
    },
    K4050 {
        cause: r"`repair --finish`: a step of the failed migration fails in the shadow database too (history replayed, tables emptied), so it fails whatever the data and the state after it is unknown. The message names the step and the server's error.",
        fix: r"Fix that step of the migration file, then `keel repair NAME --finish` again; or `keel repair NAME --revert`.",
    },
    K4051 {
        cause: r"The repair SQL would drop a table or column that holds data; the message lists each with its rows or non-NULL values (a `--revert` that drops a column the migration added counts the values the migration filled in). Nothing changed.",
        fix: r"Keep the data first (copy the rows elsewhere), or accept the loss with `keel repair NAME --finish --allow-data-loss` (or `--revert --allow-data-loss`: the message names the direction that was refused).",
    },
    K4052 {
        cause: r"The repair was not confirmed: the answer was not `yes`, or keel was not on a terminal and `--yes` was not given. The plan is printed; nothing changed.",
        fix: r"Run `keel repair NAME --finish` (or `--revert`, as the message names it) on a terminal and type `yes`, or add `--yes`.",
    },
    K4053 {
        cause: r"A repair statement failed. The message names the statement, how many ran before it and the server's error. On PostgreSQL and SQLite the repair ran in one transaction with the ledger write, so nothing changed; on MySQL/MariaDB (and for statements that cannot run in a transaction) the statements before it took effect. The ledger is as it was.",
        fix: r"Fix the cause the server names (`keel doctor` measures it, and diagnoses the new state), then the same `keel repair NAME --finish` (or `--revert`, as the message names it) again.",
    },
    K4054 {
        cause: r"After the repair SQL ran, the schema (introspected) is not the target state, the state after the migration (`--finish`) or before it (`--revert`); the message lists the differences. The ledger was not written.",
        fix: r"Run `keel doctor` to see where the migration stands now; finish it by hand and record it with `keel resolve --applied NAME` (or `--rolled-back NAME`).",
    },
    K4060 {
        cause: r"A `keel plan --rename` is malformed (neither `OLD=NEW` nor `TABLE.OLD=NEW`), or names no pair in the plan: no table (or column of `TABLE`) called `OLD` disappears while one called `NEW` of the same shape appears. A table rename is recognized only when the new table has the same columns (names and types); a column rename only within one table, to a column of the same type. `TABLE` is the table's name in `schema.sql`. Nothing was written.",
        fix: r"Use `--rename OLD=NEW` for a table or `--rename TABLE.OLD=NEW` for a column, naming a table or column that disappears and one that appears. To rename a table and some of its columns, plan the table rename first, then the columns.",
    },
    K4061 {
        cause: r"`keel plan` found a probable rename (a table disappears while one with the same columns appears, or a column disappears while one of the same type appears in its table) and could not ask which it is: it is not on a terminal, or `--json` was given. keel does not guess: a drop and an add loses the data. Nothing was written.",
        fix: r"Say which it is with the flag the message names (`--rename users.name=full_name`: a rename), or run `keel plan` on a terminal and answer; to drop and add instead, answer no there.",
    },
    K4062 {
        cause: r"The migration keel planned, replayed in a shadow database after the history, does not do what it must: `migration.sql` does not produce `schema.sql`, or `down.sql` does not restore the history's schema (the schema holds something keel's model cannot express yet). Nothing was written; the message lists the differences.",
        fix: r"Write this migration (and its `down.sql`) by hand: `keel new NAME`.",
    },
    K4063 {
        cause: r"`keel rollback` would roll back a migration that has no `down.sql` (one written with `keel new` or by another tool), or whose folder is not on disk. Nothing changed.",
        fix: r"Write the migration's `down.sql` by hand (the SQL that undoes it; `keel check` verifies it in a shadow database), or revert with a new migration.",
    },
    K4064 {
        cause: r"A `down.sql` to run would drop a table or column that holds data; the message lists each with its rows or non-NULL values (`keel rollback --dry-run` shows the same). Renames in `down.sql` are not counted as drops. Nothing changed.",
        fix: r"Keep the data first (copy the rows elsewhere), or accept the loss with `keel rollback --allow-data-loss` (with the same `--steps` or `--to`).",
    },
    K4065 {
        cause: r"The rollback was not confirmed: the answer was not `yes` (typed in full, as for a repair), or keel was not on a terminal (or `--json` was given) and `--yes` was not given. The plan is printed; nothing changed.",
        fix: r"Run `keel rollback` on a terminal and type `yes`, or add `--yes`.",
    },
    K4066 {
        cause: r"Rolling back a migration failed: a `down.sql` statement failed (the message names it and the server's error), or after it ran the schema (introspected) is not the schema before the migration (the message lists the differences). On PostgreSQL and SQLite the `down.sql` ran in one transaction with the ledger write, so nothing of it changed; on MySQL/MariaDB (and for statements that cannot run in a transaction) the statements before the failed one took effect, and the ledger still records the migration as applied. Migrations rolled back before it in the same run stay rolled back.",
        fix: r"Fix the `down.sql` (`keel check` runs it in a shadow database); `keel status` and `keel doctor` show where the database stands.",
    },
    K4070 {
        cause: r"`keel deploy` refused: a pending migration drops a table or column that holds data, or narrows a column type (the data-loss lint rules `drop-table`, `drop-column`, `narrowing-type`, see [rules](rules/README.md)). The message lists each finding with its migration, step, line and the rows at stake, counted on the target. Nothing was applied. Only migrations whose text may lose data are replayed in a shadow database for this check.",
        fix: r#"Keep the data first (copy it elsewhere); then `keel deploy --allow-data-loss`, or record the decision in the migration: `-- keel:allow drop-column reason="moved to profiles"`."#,
    },
    K4071 {
        cause: r"`keel reset` refused: the target is not the database that keel.toml's own `database_url` names beside `[database] disposable = true` (a `DATABASE_URL` pointing elsewhere is never disposable because of the mark), and it is not a SQLite file inside the directory of keel.toml (symlinks resolved; with no keel.toml there is no project).",
        fix: r"Reset only development databases: in that project's keel.toml set `database_url` to it and add `[database]` with `disposable = true`, or use a SQLite file inside the project.",
    },
    K4072 {
        cause: r"`keel reset` was not confirmed (the database name was not typed, or not on a terminal without `--yes`). Nothing was dropped.",
        fix: r"Run `keel reset` on a terminal and type the database name, or add `--yes`.",
    },
    K4080 {
        cause: r"A step of the migration timed out waiting for a lock (`--lock-timeout`, default 2 s; PostgreSQL 55P03, MySQL/MariaDB 1205/1213, SQLite busy) on every one of `--lock-attempts` tries (default 5, with exponential backoff and jitter between them), and nothing of the migration took effect. The message names the sessions holding locks on the step's tables. The ledger row records the last attempt as failed *and* rolled back, with the attempts and the holders in `logs`, so nothing blocks the next deploy. (A step-by-step migration that already applied earlier steps gives K3018 instead, with the same details in `logs`.)",
        fix: r"Let the holders finish (or end them: `SELECT pg_terminate_backend(pid)`, `KILL id`) and run `keel deploy` again; or allow longer waits: `--lock-timeout`, `--lock-attempts`, keel.toml `lock_timeout` / `lock_attempts`, or `-- keel:lock-timeout=…` in the migration.",
    },
    K4081 {
        cause: r"The deploy lock was gone before the next migration: the previous one released it (`pg_advisory_unlock_all()`, `RELEASE_ALL_LOCKS()`) or it was ended from outside. keel stops so that no other deploy can run beside it; the migrations applied so far are recorded.",
        fix: r"Remove the lock release from that migration, then `keel deploy` again.",
    },
    K4090 {
        cause: r"PostgreSQL holds an INVALID index: a `CREATE INDEX CONCURRENTLY` that failed, was cancelled (lock_timeout while it waited for an old transaction such as a `pg_dump`) or was killed left it behind. Queries do not use it; every write still maintains it, and a unique one still rejects duplicates. `IF NOT EXISTS` skips it. keel drops the INVALID index a step of its own left before it retries or records the failure, and before it runs a `CREATE INDEX CONCURRENTLY` of the same name; `status` (exit 3), `doctor`, `deploy` and `drift` name any other.",
        fix: r"`DROP INDEX CONCURRENTLY name;` then create it again: `keel deploy` does for a migration that is not applied yet; for an applied one run its `CREATE INDEX CONCURRENTLY` by hand.",
    },
}
