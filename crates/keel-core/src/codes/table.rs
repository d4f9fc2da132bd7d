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
        example: r"error[K1000]: cannot start the async runtime: Too many open files (os error 24)",
    },
    K1001 {
        cause: r"The database server could not be reached, or refused the login.",
        fix: r"Check that the server runs and is reachable, and the user and password.",
        example: r"error[K1001]: cannot connect to `postgres://app@db.internal:5432/shop`: error communicating with database: Connection refused (os error 111)
  fix: check that the server is running and reachable, and the user and password",
    },
    K1002 {
        cause: r"The deploy lock was not free within `--deploy-lock-timeout` (default 60 s): another deploy (keel or Prisma) holds it. The message names the holder: PostgreSQL backend pid, `application_name`, state, since when and its last query; MySQL connection id, user, host, query; SQLite the process holding the database file's lock.",
        fix: r"Wait for the other deploy, or raise `--deploy-lock-timeout`; if the holder is stuck, end that session (`SELECT pg_terminate_backend(pid)`, `KILL id`).",
        example: r"error[K1002]: timed out after 60012 ms waiting for the deploy lock, held by PostgreSQL backend pid 4242 (application_name 'keel', state active, since 2024-01-05T12:00:03Z, 75 s ago, last query: CREATE INDEX CONCURRENTLY orders_ref_key ON orders (ref))
  fix: wait for the other deploy to finish, or raise --deploy-lock-timeout; if the holder is stuck, end that session: `SELECT pg_terminate_backend(pid)`",
    },
    K1003 {
        cause: r"The database named in the URL does not exist.",
        fix: r"Create it first (`CREATE DATABASE name`).",
        example: r"error[K1003]: database `shop` does not exist on `postgres://app@db.internal:5432/shop`
  fix: create the database first (e.g. `CREATE DATABASE shop`)",
    },
    K1009 {
        cause: r"The server rejected a statement keel issued for itself (ledger read or write).",
        fix: r"Read the server's message; usually a permission is missing on the ledger table.",
        example: r"error[K1009]: permission denied for schema public
  fix: see the database's message above",
    },
    K1010 {
        cause: r"The ledger table lacks Prisma's columns (a table of that name made by something else), or a row has values keel cannot read (the table was altered by hand).",
        fix: r#"Restore the ledger's columns to Prisma's definition (see DESIGN.md, "The ledger")."#,
        example: r#"error[K1010]: cannot read the ledger table `_keel_migrations`: column "applied_steps_count" does not exist; a ledger has Prisma's columns (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
  fix: `_keel_migrations` is not a ledger keel can read: if another tool owns that table, give keel its own with --ledger-table; else restore Prisma's columns (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)"#,
    },
    K1011 {
        cause: r#"A TLS connection could not be made (Prisma's P1011): the server offers no TLS while the URL requires it (`sslmode=require`, `ssl-mode=REQUIRED`), its certificate is not signed by the CA given (`sslrootcert=`, `ssl-ca=`: "UnknownIssuer"), does not name the host (`verify-full`, `VERIFY_IDENTITY`: "not valid for name"), is itself a CA, or the certificate file cannot be read."#,
        fix: r"The fix printed names the case: connect with the host name the certificate names, or use `verify-ca` / `VERIFY_CA`; point `sslrootcert` / `ssl-ca` at the CA that signed the server's certificate; enable TLS on the server; fix the file path.",
        example: r"error[K1011]: cannot open a TLS connection to `postgres://app@db.internal:5432/shop?sslmode=verify-full`: error communicating with database: invalid peer certificate: UnknownIssuer
  fix: point sslrootcert= (PostgreSQL) / ssl-ca= (MySQL) at the CA certificate that signed the server's certificate",
    },
    K1012 {
        cause: r#"`schema.prisma` (a file, or a folder of `.prisma` files) cannot be read as a desired schema (Prisma's P1012, "schema validation error"): it does not parse, names no `datasource` or a provider keel does not run (`sqlserver`, `mongodb`, `cockroachdb`), uses a type, native type (`@db.*`), default or attribute argument that does not exist for its field, or a relation whose `fields:`/`references:` are not fields of their models. The error gives the file, line and column."#,
        fix: r"Fix the schema at the line and column given; `prisma validate` reports the same mistakes. For a DDL file, name it `.sql`.",
        example: r"error[K1012]: prisma/schema.prisma:14:3: `Strng` is not a scalar type, enum or model of this schema
  fix: fix the schema at that line and column",
    },
    K1013 {
        cause: r"The database URL names no database keel may act on: none is configured (no `DATABASE_URL` in the environment or `.env`, no `--database-url`, no `database_url` in keel.toml; keel has no default database), it is blank, malformed, or of an unsupported scheme; it names no database (`postgres://host` alone: the server would pick one); it names `template0`/`template1` (every later database would inherit the tables); a user name or password holds an unencoded `/ ? # @`; `?schema=` is empty; a SQLite parameter other than `mode=ro|rw|rwc|memory`. The message never shows a URL that did not parse, only its scheme and host.",
        fix: r"Set the URL (`postgres://USER:PASSWORD@HOST:5432/DB`, `mysql://…/DB` / `mariadb://…/DB`, `sqlite://FILE`), name the database, percent-encode the password (`/` is `%2F`, `@` `%40`).",
        example: r"error[K1013]: invalid database URL `postgres://app@db.internal:5432`: no database name: PostgreSQL would choose a default database; name it, e.g. postgres://USER@HOST/DB
  fix: use postgres://USER:PASSWORD@HOST:5432/DB, mysql://USER:PASSWORD@HOST:3306/DB or sqlite://FILE",
    },
    K1017 {
        cause: r"The connection was lost while keel worked (server restart, killed session, network). keel never retries, so no step runs twice. A transactional migration leaves no trace (or, if the connection broke after the server had the whole transaction, is wholly applied); a step-by-step one has a truthful `applied_steps_count`, and the step that was running may or may not have taken effect.",
        fix: r"Run `keel status` to see what was recorded: pending or applied, `keel deploy` again; failed, `keel doctor` measures which steps took effect and `keel repair` finishes or reverts it.",
        example: r"error[K1017]: the connection to the database was lost: terminating connection due to administrator command
while applying `20240105120000_add_orders`. It ran in one transaction with its ledger row: the server rolls it back, so nothing of it remains and it is still pending, unless the connection broke during COMMIT, in which case `keel status` shows it applied.
  fix: run `keel status` to see what was recorded, then `keel deploy` again",
    },
    K1020 {
        cause: r#"The connection is not a stable database session: a pooler in transaction or statement mode (PgBouncer, RDS Proxy, Supavisor) hands the server session to other clients between transactions, so the deploy lock and session settings would not hold (or sqlx's prepared statements collide: `prepared statement "sqlx_s_1" already exists`). keel checks before it takes the deploy lock; nothing was changed and no lock is left behind. See [running keel in production](production.md#connection-poolers-pgbouncer-rds-proxy-supavisor)."#,
        fix: r"Give keel a direct connection for migrations (the server's own host and port, Prisma's `directUrl`), or a pooler database in `pool_mode = session`.",
        example: r"error[K1020]: the database connection is not a stable session: the server backend changes between transactions (a connection pooler such as PgBouncer in transaction or statement mode), so the deploy lock would not protect this deploy; nothing was changed
  fix: give keel a direct connection to the server for migrations (Prisma's `directUrl`): the server's own host and port (5432), not the pooler's; or a PgBouncer database with `pool_mode=session`",
    },
    K1021 {
        cause: r"PostgreSQL: the session has no current schema. Its `search_path` (set on the role or the database, e.g. `ALTER ROLE app SET search_path = app`) names only schemas that do not exist, and the URL has no `?schema=`: the ledger and every unqualified name in the migrations would resolve to nothing (`no schema has been selected to create in`), and introspection would read every schema as an extra one.",
        fix: r"Name the schema in the URL (`?schema=public`, Prisma's convention; deploy creates it when missing), create the schema the search_path names, or fix the setting (`ALTER ROLE name SET search_path = public`).",
        example: r"error[K1021]: the session has no current schema: its search_path `app` names no schema that exists in this database, so the ledger and every unqualified name in the migrations resolve to nothing
  fix: name the schema in the URL (`?schema=public`, Prisma's convention), create the schema the search_path names, or fix the setting (`ALTER ROLE name SET search_path = public`)",
    },
    K3005 {
        cause: r"The database has tables but no ledger: deploying the whole history would collide with what exists.",
        fix: r"`keel baseline`: with migrations on disk it replays them in a shadow database, finds the longest prefix whose schema equals the database's, and records exactly that prefix as applied (one transaction, under the deploy lock); then `keel deploy` applies the rest. Without migrations it captures the database as a first migration. (Recording only the first migration with `keel resolve --applied` and deploying would re-run the others on a schema that already has them.)",
        example: r"error[K3005]: the database is not empty (3 tables: `customers`, `orders`, `products`) and has no ledger table `_keel_migrations`
  fix: `keel baseline` finds how much of the history the database already has (replayed in a shadow database) and records exactly that as applied; then `keel deploy` applies the rest",
    },
    K3006 {
        cause: r"A migration failed while being replayed in the shadow database (`keel diff` with `migrations`, `schema=` or `ledger`). The message names the migration, step, line and the server's error.",
        fix: r"Fix the migration so that the history applies to an empty database in order, or check that the history is complete.",
        example: r#"error[K3006]: migration `20240105120000_add_orders` failed to apply cleanly to the shadow database at step 1 of 2 (line 1: `ALTER TABLE orders ADD COLUMN total integer`): relation "orders" does not exist (code 42P01)
  fix: fix `20240105120000_add_orders` so that it applies to an empty database in order, or check that the history is complete"#,
    },
    K3008 {
        cause: r"`resolve --applied` named a migration already recorded as applied.",
        fix: r"Nothing to do; `keel status` shows the ledger.",
        example: r"error[K3008]: migration `20240105120000_add_orders` is already recorded as applied
  fix: nothing to do; `keel status` shows the ledger",
    },
    K3009 {
        cause: r"A migration in the ledger is failed (started, never finished, not rolled back); deploy refuses until someone says what state the database is in. `keel doctor` reports it with a diagnosis (see [below](#keel-doctor-findings)).",
        fix: r"`keel doctor` measures what it left behind (which of its steps took effect) and why it failed; then `keel repair NAME --finish` or `--revert` (see below), or the `keel resolve` it recommends. By hand: find out what it left behind (`keel status` shows its logs and `applied_steps_count`), then `keel resolve --rolled-back NAME` (nothing of it remains, or you reverted it; fix the file and deploy) or `keel resolve --applied NAME` (you completed it by hand).",
        example: r"error[K3009]: 1 failed migration in the ledger: `20240105120000_add_orders`
  fix: `keel doctor` measures what `20240105120000_add_orders` left behind and why it failed; then `keel repair 20240105120000_add_orders --finish` or `--revert` (or the `keel resolve` it recommends)",
    },
    K3012 {
        cause: r"`resolve --rolled-back` named a migration that is not failed.",
        fix: r"Only a failed migration can be marked rolled back; `keel status` shows the states.",
        example: r"error[K3012]: migration `20240105120000_add_orders` cannot be marked rolled back: it is applied, not failed
  fix: only a failed migration can be marked rolled back; `keel status` shows the states",
    },
    K3013 {
        cause: r"`keel resolve --rolled-back` refused: the ledger row of the failed migration says some of its steps took effect (`applied_steps_count` > 0, a step-by-step migration that failed part-way). Marking it rolled back would make `keel deploy` run it again from step 1 on a schema that already has those steps, and fail again.",
        fix: r"`keel repair NAME --revert` undoes what took effect (verified by introspection) and marks it rolled back; `keel repair NAME --finish` runs the rest instead. If you undid the steps by hand, `keel resolve --rolled-back NAME --force`.",
        example: r"error[K3013]: migration `20240105120000_add_orders` cannot be marked rolled back: the ledger says 2 of its steps took effect, so `keel deploy` would run them again on a schema that already has them
  fix: `keel repair 20240105120000_add_orders --revert` undoes what took effect and marks it rolled back (verified); `keel repair 20240105120000_add_orders --finish` runs the rest; `keel doctor` measures which it is. `keel resolve --rolled-back 20240105120000_add_orders --force` if you undid the steps by hand",
    },
    K3014 {
        cause: r"No shadow database could be used. The message lists each strategy tried (the given `--shadow-database-url`, a database keel creates and drops, a private cluster from the local PostgreSQL binaries, a temporary schema in a rolled-back transaction on the target) and why it failed; or the given shadow URL is the target database itself.",
        fix: r"Pass `--shadow-database-url` (or `SHADOW_DATABASE_URL`) naming a disposable database, or grant the user the right to create databases (PostgreSQL `CREATEDB`, MySQL `CREATE`).",
        example: r"error[K3014]: no shadow database could be used; tried:
  - CREATE DATABASE keel_shadow_6597ef40_3f9c1b2e on mysql://app@db.internal:3306/shop: Access denied for user 'app'@'%' to database 'keel_shadow_6597ef40_3f9c1b2e'
  fix: give keel a database it may empty: --shadow-database-url (or SHADOW_DATABASE_URL), or grant the user CREATEDB (PostgreSQL) / CREATE (MySQL) so keel can create and drop one",
    },
    K3015 {
        cause: r"A migration folder has no `migration.sql`.",
        fix: r"Add the file, or remove the empty folder.",
        example: r"error[K3015]: migration folder `/app/migrations/20240105120000_add_orders` has no migration.sql
  fix: add the folder's migration.sql, or remove the empty folder",
    },
    K3017 {
        cause: r"`resolve` named a migration that is neither on disk nor in the ledger.",
        fix: r"Use a name `keel status` lists.",
        example: r"error[K3017]: migration `20240105120000_add_order` is not in `/app/migrations`
  fix: run `keel status` for the migration names",
    },
    K3018 {
        cause: r"A migration failed to apply. The message gives the step number, its line and first line, the server's error and code, and what was and was not applied; the ledger row keeps the same in `logs`. On PostgreSQL and SQLite a transactional migration left nothing behind; on MySQL/MariaDB (and for `-- keel:no-transaction` migrations) steps before the failed one took effect.",
        fix: r"Transactional (nothing took effect): fix the cause, then `keel resolve --rolled-back NAME` and `keel deploy`. Step by step (MySQL/MariaDB, `-- keel:no-transaction`): `keel doctor` shows which steps took effect and why it failed; fix the cause, then `keel repair NAME --finish` (runs the rest) or `keel repair NAME --revert` (undoes what took effect).",
        example: r#"error[K3018]: migration `20240105120000_add_orders` failed at step 2 of 3 (line 4: `CREATE UNIQUE INDEX orders_ref_key ON orders (ref)`): could not create unique index "orders_ref_key" (code 23505)
No migration was applied by this deploy before it. It ran in a transaction that was rolled back: none of its steps remain.
  fix: fix the cause, then `keel resolve --rolled-back 20240105120000_add_orders` and `keel deploy`"#,
    },
    K3019 {
        cause: r"`migration_lock.toml` names another provider than the database (or one keel does not support).",
        fix: r"Point `--database-url` at the database this history was written for, or start a new migrations directory.",
        example: r#"error[K3019]: `/app/prisma/migrations/migration_lock.toml` says provider = "postgresql" but the database is MySQL/MariaDB
  fix: point --database-url at the database this history was written for, or start a new migrations directory for this one"#,
    },
    K4001 {
        cause: r"An applied migration's file changed since it was applied (checksum mismatch; CRLF/LF differences are accepted).",
        fix: r"Restore the file as applied (`git checkout`), put the change in a new migration (`keel new NAME`), or accept with `keel deploy --allow-modified`.",
        example: r"error[K4001]: 1 applied migration changed on disk since it was applied (checksum mismatch): `20240105120000_add_orders`
  fix: restore the files as they were applied (git checkout), put the change in a new migration (`keel new NAME`), or accept with `keel deploy --allow-modified`",
    },
    K4002 {
        cause: r"The ledger records an applied migration whose folder is not on disk.",
        fix: r"Restore the folder, or accept with `keel deploy --allow-missing`.",
        example: r"error[K4002]: 1 applied migration in the ledger has no folder in `/app/migrations`: `20240105120000_add_orders`
  fix: restore the folders (git checkout), or accept with `keel deploy --allow-missing`",
    },
    K4003 {
        cause: r"A pending migration sorts before the newest applied one (out of order, typically after a branch merge).",
        fix: r"Give it a newer version (rename the folder), or apply it anyway with `keel deploy --allow-out-of-order`.",
        example: r"error[K4003]: 1 pending migration sorts before the newest applied one (out of order): `20240103090000_add_customers`
  fix: give the migrations a version newer than the newest applied one (rename the folders), or apply them anyway with `keel deploy --allow-out-of-order`",
    },
    K4004 {
        cause: r"`deploy --to VERSION` or `rollback --to VERSION` matches no migration (rollback: no applied one).",
        fix: r"Give a version or name that `keel status` lists.",
        example: r"error[K4004]: `--to 20240105` matches no migration version or name in `/app/migrations`
  fix: give a version or a name that `keel status` lists",
    },
    K4005 {
        cause: r"A `keel diff` source is not understood.",
        fix: r"Use `empty`, `migrations[=DIR]`, `schema=FILE`, `ledger`, or a database URL.",
        example: r"error[K4005]: `schema:schema.sql` is not a diff source
  fix: use empty, migrations[=DIR], schema=FILE, ledger, or a database URL",
    },
    K4006 {
        cause: r"The plan holds a change this database cannot express (e.g. an enum type on SQLite, a generated column's expression changed in place).",
        fix: r"Write that change by hand in a migration.",
        example: r"error[K4006]: SQLite cannot manage enum types
  fix: write this change by hand in a migration",
    },
    K4007 {
        cause: r"A migration rolls back its own transaction: a plain `ROLLBACK` or `ABORT` (not `ROLLBACK TO SAVEPOINT`). The statements before it would be undone while the ledger records the migration as applied, and a replay of the history would disagree with the database. Refused before anything runs.",
        fix: r"End the migration's transaction with `COMMIT`, or drop its own `BEGIN … COMMIT` (keel runs each migration in a transaction where the database allows); to undo something, write the statements that undo it.",
        example: r"error[K4007]: migration `20240105120000_add_orders` rolls back its own transaction (line 9: `ROLLBACK`): its steps before that are undone, yet the ledger would record it as applied
  fix: end the migration's transaction with COMMIT (or drop its own BEGIN … COMMIT: keel runs a migration in a transaction); to undo something, write the statements that undo it",
    },
    K4008 {
        cause: r"`keel explain` was given neither an error code keel has (`K3009`) nor a lint rule id (`drop-column`).",
        fix: r"Run `keel explain` alone: it lists every code and rule.",
        example: r"error[K4008]: `P3009` is neither an error code keel has nor a lint rule
  fix: run `keel explain` alone: it lists every code and rule",
    },
    K4010 {
        cause: r"`keel new` was given a name that is not `[a-z0-9_]+`.",
        fix: r"For example `keel new add_users_email`.",
        example: r"error[K4010]: invalid migration name `Add-Orders`: use lowercase letters, digits and underscores
  fix: for example: `keel new add_users_email`",
    },
    K4011 {
        cause: r"A `-- keel:` directive at the top of a migration is unknown or has a bad value.",
        fix: r"Known: `-- keel:no-transaction`, `-- keel:lock-timeout=5s`, `-- keel:statement-timeout=10min`.",
        example: r"error[K4011]: `/app/migrations/20240105120000_add_orders/migration.sql`: line 1: unknown directive `keel:no-transactions` (known: keel:no-transaction, keel:lock-timeout=<duration>, keel:statement-timeout=<duration>)
  fix: fix the `-- keel:` comment (known: keel:no-transaction, keel:lock-timeout=5s, keel:statement-timeout=10min)",
    },
    K4012 {
        cause: r"There is no migrations directory here (neither `migrations/` nor `prisma/migrations/`: keel run from a monorepo root or the wrong directory, nothing was written), the named one does not exist, or a migration file cannot be read or is not UTF-8.",
        fix: r"Run keel in the project directory or pass `--migrations DIR` (`keel init` creates one); check the path and its permissions; save the file as UTF-8.",
        example: r"error[K4012]: no migrations directory here; looked for `/app/migrations` and `/app/prisma/migrations`
  fix: run keel in the project directory (where migrations/ or prisma/migrations/ is), pass --migrations DIR, or create the directory with `keel init`",
    },
    K4013 {
        cause: r"Two files give the same migration name (e.g. `1_a.sql` and `1_a.up.sql`).",
        fix: r"Keep one.",
        example: r"error[K4013]: two files give the migration name `20240105120000_add_orders`: `/app/migrations/20240105120000_add_orders.sql` and `/app/migrations/20240105120000_add_orders.up.sql`
  fix: keep one of the two files",
    },
    K4014 {
        cause: r"`migration_lock.toml` is not valid TOML or has no `provider`.",
        fix: r#"Restore it to `provider = "postgresql"` (or `mysql`, `sqlite`)."#,
        example: r#"error[K4014]: `/app/prisma/migrations/migration_lock.toml` is not a valid lock file: no `provider = "..."` line
  fix: restore migration_lock.toml to `provider = "postgresql"` (or mysql, sqlite)"#,
    },
    K4015 {
        cause: r"keel could not write a file (`init`, `new`).",
        fix: r"Check the directory's permissions and free space.",
        example: r"error[K4015]: cannot write `/app/migrations/20240105120000_add_orders`: Permission denied (os error 13)
  fix: check the directory's permissions and free space",
    },
    K4016 {
        cause: r"A migration folder's name is not `<numeric version>_<name>`, or holds whitespace, control characters or `..`.",
        fix: r"Rename the folder, e.g. `20260101000000_add_users`.",
        example: r"error[K4016]: `/app/migrations/add_orders` is not a valid migration name: it must start with a numeric version and `_` (e.g. 20260101000000_init)
  fix: rename the folder to `<version>_<name>` with a numeric version and letters, digits and `_` (e.g. 20260101000000_add_users)",
    },
    K4017 {
        cause: r"A SQL file (a migration, a `down.sql`, a schema file) holds a NUL byte. The servers take statements as C strings: PostgreSQL breaks the connection, SQLite stops parsing there (and would spin). The message gives the file, line and column; nothing was run.",
        fix: r"Remove the NUL byte (often a file saved by a binary-unsafe tool, or `printf` with `\0`).",
        example: r"error[K4017]: `/app/migrations/20240105120000_add_orders/migration.sql` line 7, column 12: a NUL byte (\0); SQL text cannot hold one
  fix: remove the NUL byte from the file (SQL text cannot hold one); nothing was run",
    },
    K4018 {
        cause: r"A MySQL/MariaDB migration switches database with `USE`: the rest of it and its ledger row would land in another database. Refused before anything runs.",
        fix: r"Qualify the names (`other_db.table`), or deploy that database with its own URL.",
        example: r"error[K4018]: migration `20240105120000_add_orders` switches database with `USE` (line 3): the rest of it and its ledger row would land in another database
  fix: qualify the names instead (`other_db.table`), or deploy that database with its own URL; a migration must stay in the database it is recorded in",
    },
    K4019 {
        cause: r"The ledger keel would choose does not exist, but the other name does: `migration_lock.toml` (a Prisma project) means `_prisma_migrations`, while the history so far was recorded in `_keel_migrations`. Nothing was written.",
        fix: r"Pass `--ledger-table _keel_migrations` (or `ledger_table` in keel.toml) to keep that history.",
        example: r#"error[K4019]: keel would use the ledger `_prisma_migrations` (migration_lock.toml makes this a Prisma project), but it does not exist and `_keel_migrations` does
  fix: to keep the history recorded in `_keel_migrations`, pass `--ledger-table _keel_migrations` (or set `ledger_table = "_keel_migrations"` in keel.toml)"#,
    },
    K4020 {
        cause: r"`keel.toml` or a `.env` file cannot be read, has an unknown key, or a bad value; or the ledger table name (`--ledger-table`, `ledger_table`) is not a plain name of letters, digits and `_` of at most 63 bytes (schema-qualified, quotes or other characters that could reach SQL, or a name PostgreSQL would truncate).",
        fix: r"Keys: `database_url`, `migrations`, `ledger_table`, `lock_timeout`, `lock_attempts` (at least 1), `statement_timeout`, `deploy_lock_timeout`, `shadow_database_url`, and `[database]` `disposable`; choose the ledger's schema with the URL's `?schema=`.",
        example: r"error[K4020]: `/app/keel.toml`: lock_timeout: `5 seconds`: unknown unit `seconds` (use ms, s, min or h)
  fix: fix keel.toml (keys: database_url, migrations, ledger_table, lock_timeout, lock_attempts, statement_timeout, deploy_lock_timeout, shadow_database_url; table [database] with disposable)",
    },
    K4021 {
        cause: r"The project's `.env` and `prisma/.env` set `DATABASE_URL` (or `SHADOW_DATABASE_URL`) to different values; keel will not guess which database is meant (Prisma refuses the same conflict).",
        fix: r"Keep the variable in one file, or set it in the environment, which wins over both.",
        example: r"error[K4021]: `DATABASE_URL` is set differently in `/app/.env` and `/app/prisma/.env`; keel will not guess which database you mean
  fix: keep `DATABASE_URL` in one of the two files (Prisma refuses the same conflict), or set it in the environment, which wins over both",
    },
    K4030 {
        cause: r"`keel baseline` refused: the ledger already has rows, the database is empty, or a NAME was given for a first migration while the migrations directory already holds migrations.",
        fix: r"Baseline only a database with tables and no ledger rows; with migrations on disk run `keel baseline` without a name (it records the prefix of the history the database has).",
        example: r"error[K4030]: cannot write a baseline: the ledger `_keel_migrations` already has 12 row(s): the history is recorded; `keel status` shows it
  fix: baseline a database that has tables and no ledger rows; with migrations on disk run `keel baseline` without a name",
    },
    K4031 {
        cause: r"The baseline does not match the database: the first migration keel wrote, replayed in a shadow database, does not recreate the live schema exactly (the schema holds something keel's model cannot express yet); or, with migrations on disk, no prefix of the history replays to the live schema (a hand change, or a history that differs). Nothing was written or recorded; the message lists the differences (for a history, from the closest prefix).",
        fix: r"Write the baseline migration by hand and record it with `keel resolve --applied NAME`; for a history, bring the database to the closest prefix's schema (or add a migration that records the difference), then `keel baseline` again.",
        example: r"error[K4031]: the baseline does not recreate the database exactly; nothing was written or recorded. Differences: added index `orders_lower_ref_idx` on `orders`
  fix: the schema holds something keel's model cannot express yet (see the differences); write the baseline migration by hand and record it with `keel resolve --applied NAME`",
    },
    K4040 {
        cause: r"`keel doctor` finding: drift. The live schema differs from the schema its applied migrations produce (replayed in a shadow database); each difference is listed. Checked only when no migration is failed and there is no K3005 finding.",
        fix: r"`keel drift` prints both reconcile scripts: the SQL that brings the database back to its history, and the SQL that records the change in the history instead (put it in a new migration with `keel new NAME`, then `keel resolve --applied NAME`).",
        example: r"warning[K4040]: drift: the schema differs from its applied migrations (2 differences)
  fix: record the change in a new migration: `keel drift` prints its SQL (save it with `keel new NAME`, then `keel resolve --applied NAME`)",
    },
    K4041 {
        cause: r"`keel doctor` finding: migrations are pending (never applied, or rolled back so that deploy runs them again). Doctor does not check them against the data.",
        fix: r"`keel deploy`. After `keel repair NAME --revert`, fix the cause first.",
        example: r"info[K4041]: 2 migration(s) pending
  fix: `keel deploy`",
    },
    K4050 {
        cause: r"`repair --finish`: a step of the failed migration fails in the shadow database too (history replayed, tables emptied), so it fails whatever the data and the state after it is unknown. The message names the step and the server's error.",
        fix: r"Fix that step of the migration file, then `keel repair NAME --finish` again; or `keel repair NAME --revert`.",
        example: r#"error[K4050]: cannot finish `20240105120000_add_orders`: its step 3 fails in the shadow database too, whatever the data (column "totl" of relation "orders" does not exist), so the state after it is unknown
  fix: fix step 3 of `20240105120000_add_orders` (it fails whatever the data), then run `keel repair 20240105120000_add_orders --finish` again; or `keel repair 20240105120000_add_orders --revert`"#,
    },
    K4051 {
        cause: r"The repair SQL would drop a table or column that holds data; the message lists each with its rows or non-NULL values (a `--revert` that drops a column the migration added counts the values the migration filled in). Nothing changed.",
        fix: r"Keep the data first (copy the rows elsewhere), or accept the loss with `keel repair NAME --finish --allow-data-loss` (or `--revert --allow-data-loss`: the message names the direction that was refused).",
        example: r#"error[K4051]: repairing `20240105120000_add_orders` would drop data: column "orders"."total" (1,204 non-NULL values)
  fix: keep the data first (copy the rows elsewhere), or accept the loss with `keel repair 20240105120000_add_orders --revert --allow-data-loss`"#,
    },
    K4052 {
        cause: r"The repair was not confirmed: the answer was not `yes`, or keel was not on a terminal and `--yes` was not given. The plan is printed; nothing changed.",
        fix: r"Run `keel repair NAME --finish` (or `--revert`, as the message names it) on a terminal and type `yes`, or add `--yes`.",
        example: r"error[K4052]: repair of `20240105120000_add_orders` not confirmed; nothing changed
  fix: run `keel repair 20240105120000_add_orders --finish` on a terminal and confirm, or add --yes",
    },
    K4053 {
        cause: r"A repair statement failed. The message names the statement, how many ran before it and the server's error. On PostgreSQL and SQLite the repair ran in one transaction with the ledger write, so nothing changed; on MySQL/MariaDB (and for statements that cannot run in a transaction) the statements before it took effect. The ledger is as it was.",
        fix: r"Fix the cause the server names (`keel doctor` measures it, and diagnoses the new state), then the same `keel repair NAME --finish` (or `--revert`, as the message names it) again.",
        example: r#"error[K4053]: repair of `20240105120000_add_orders` failed at step 1 of 2 (`DROP INDEX "orders_ref_idx"`): must be owner of index orders_ref_idx (code 42501). It ran in a transaction: nothing changed and the ledger is as it was
  fix: fix the cause the server names (`keel doctor` measures it), then `keel repair 20240105120000_add_orders --revert` again"#,
    },
    K4054 {
        cause: r"After the repair SQL ran, the schema (introspected) is not the target state, the state after the migration (`--finish`) or before it (`--revert`); the message lists the differences. The ledger was not written.",
        fix: r"Run `keel doctor` to see where the migration stands now; finish it by hand and record it with `keel resolve --applied NAME` (or `--rolled-back NAME`).",
        example: r"error[K4054]: after the repair SQL the schema of `20240105120000_add_orders` is not the state after the migration; the ledger was not written. Differences: added column `orders.total` (integer, not null, default 0)
  fix: run `keel doctor` to see where `20240105120000_add_orders` stands now; finish it by hand and record it with `keel resolve --applied 20240105120000_add_orders` (or `--rolled-back`)",
    },
    K4060 {
        cause: r"A `keel plan --rename` is malformed (neither `OLD=NEW` nor `TABLE.OLD=NEW`), or names no pair in the plan: no table (or column of `TABLE`) called `OLD` disappears while one called `NEW` of the same shape appears. A table rename is recognized only when the new table has the same columns (names and types); a column rename only within one table, to a column of the same type. `TABLE` is the table's name in `schema.sql`. Nothing was written.",
        fix: r"Use `--rename OLD=NEW` for a table or `--rename TABLE.OLD=NEW` for a column, naming a table or column that disappears and one that appears. To rename a table and some of its columns, plan the table rename first, then the columns.",
        example: r"error[K4060]: bad --rename: column `orders.total` → `amount` names no table or column that disappears while one of the same shape appears
  fix: use --rename OLD=NEW for a table or --rename TABLE.OLD=NEW for a column, naming a table or column that disappears and one that appears",
    },
    K4061 {
        cause: r"`keel plan` found a probable rename (a table disappears while one with the same columns appears, or a column disappears while one of the same type appears in its table) and could not ask which it is: it is not on a terminal, or `--json` was given. keel does not guess: a drop and an add loses the data. Nothing was written.",
        fix: r"Say which it is with the flag the message names (`--rename users.name=full_name`: a rename), or run `keel plan` on a terminal and answer; to drop and add instead, answer no there.",
        example: r"error[K4061]: probable rename: column `orders.total` → `amount`; keel does not guess (a drop and an add loses the data)
  fix: say which it is: `--rename orders.total=amount` (a rename), or run `keel plan` on a terminal and answer; to drop and add instead, answer no there",
    },
    K4062 {
        cause: r"The migration keel planned, replayed in a shadow database after the history, does not do what it must: `migration.sql` does not produce `schema.sql`, or `down.sql` does not restore the history's schema (the schema holds something keel's model cannot express yet). Nothing was written; the message lists the differences.",
        fix: r"Write this migration (and its `down.sql`) by hand: `keel new NAME`.",
        example: r"error[K4062]: migration.sql does not produce schema.sql; nothing was written. Differences: changed column `orders.total`: generated expression changed
  fix: the schema holds something keel's model cannot express yet (see the differences); write this migration by hand (`keel new NAME`)",
    },
    K4063 {
        cause: r"`keel rollback` would roll back a migration that has no `down.sql` (one written with `keel new` or by another tool), or whose folder is not on disk. Nothing changed.",
        fix: r"Write the migration's `down.sql` by hand (the SQL that undoes it; `keel check` verifies it in a shadow database), or revert with a new migration.",
        example: r"error[K4063]: cannot roll back `20240105120000_add_orders`: it has no down.sql
  fix: write `20240105120000_add_orders`'s down.sql by hand (the SQL that undoes it), or revert with a new migration",
    },
    K4064 {
        cause: r"A `down.sql` to run would drop a table or column that holds data; the message lists each with its rows or non-NULL values (`keel rollback --dry-run` shows the same). Renames in `down.sql` are not counted as drops. Nothing changed.",
        fix: r"Keep the data first (copy the rows elsewhere), or accept the loss with `keel rollback --allow-data-loss` (with the same `--steps` or `--to`).",
        example: r#"error[K4064]: rolling back would drop data: column "orders"."total" (1,204 non-NULL values)
  fix: keep the data first (copy the rows elsewhere), or accept the loss with `keel rollback --allow-data-loss`"#,
    },
    K4065 {
        cause: r"The rollback was not confirmed: the answer was not `yes` (typed in full, as for a repair), or keel was not on a terminal (or `--json` was given) and `--yes` was not given. The plan is printed; nothing changed.",
        fix: r"Run `keel rollback` on a terminal and type `yes`, or add `--yes`.",
        example: r"error[K4065]: rollback not confirmed; nothing changed
  fix: run `keel rollback` on a terminal and confirm, or add --yes",
    },
    K4066 {
        cause: r"Rolling back a migration failed: a `down.sql` statement failed (the message names it and the server's error), or after it ran the schema (introspected) is not the schema before the migration (the message lists the differences). On PostgreSQL and SQLite the `down.sql` ran in one transaction with the ledger write, so nothing of it changed; on MySQL/MariaDB (and for statements that cannot run in a transaction) the statements before the failed one took effect, and the ledger still records the migration as applied. Migrations rolled back before it in the same run stay rolled back.",
        fix: r"Fix the `down.sql` (`keel check` runs it in a shadow database); `keel status` and `keel doctor` show where the database stands.",
        example: r#"error[K4066]: rolling back `20240105120000_add_orders` failed at step 1 of 2 (line 1: `ALTER TABLE orders DROP COLUMN total`): column "total" of relation "orders" does not exist (code 42703) of down.sql; it ran in a transaction: nothing changed
  fix: fix the down.sql; `keel status` and `keel doctor` show where the database stands"#,
    },
    K4070 {
        cause: r"`keel deploy` refused: a pending migration drops a table or column that holds data, or narrows a column type (the data-loss lint rules `drop-table`, `drop-column`, `narrowing-type`, see [rules](rules/README.md)). The message lists each finding with its migration, step, line and the rows at stake, counted on the target. Nothing was applied. Only migrations whose text may lose data are replayed in a shadow database for this check.",
        fix: r#"Keep the data first (copy it elsewhere); then `keel deploy --allow-data-loss`, or record the decision in the migration: `-- keel:allow drop-column reason="moved to profiles"`."#,
        example: r#"error[K4070]: pending migrations would lose data; nothing was applied:
  - 20240105120000_add_orders (step 2, line 3): drops column `orders.total`, which holds 1,204 non-NULL values
  fix: keep the data first (copy it elsewhere); then accept with `keel deploy --allow-data-loss`, or record the decision in the migration: `-- keel:allow drop-column reason="…"` (rule ids in docs/rules/)"#,
    },
    K4071 {
        cause: r"`keel reset` refused: the target is not the database that keel.toml's own `database_url` names beside `[database] disposable = true` (a `DATABASE_URL` pointing elsewhere is never disposable because of the mark), and it is not a SQLite file inside the directory of keel.toml (symlinks resolved; with no keel.toml there is no project).",
        fix: r"Reset only development databases: in that project's keel.toml set `database_url` to it and add `[database]` with `disposable = true`, or use a SQLite file inside the project.",
        example: r"error[K4071]: keel reset refused: keel.toml does not mark this database disposable ([database] disposable = true)
  fix: reset only development databases: in that project's keel.toml, set its `database_url` and add `[database]` with `disposable = true`; or use a SQLite file inside the directory of keel.toml",
    },
    K4072 {
        cause: r"`keel reset` was not confirmed (the database name was not typed, or not on a terminal without `--yes`). Nothing was dropped.",
        fix: r"Run `keel reset` on a terminal and type the database name, or add `--yes`.",
        example: r"error[K4072]: reset not confirmed; nothing was dropped
  fix: run `keel reset` on a terminal and type the database name, or add --yes",
    },
    K4080 {
        cause: r"A step of the migration timed out waiting for a lock (`--lock-timeout`, default 2 s; PostgreSQL 55P03, MySQL/MariaDB 1205/1213, SQLite busy) on every one of `--lock-attempts` tries (default 5, with exponential backoff and jitter between them), and nothing of the migration took effect. The message names the sessions holding locks on the step's tables. The ledger row records the last attempt as failed *and* rolled back, with the attempts and the holders in `logs`, so nothing blocks the next deploy. (A step-by-step migration that already applied earlier steps gives K3018 instead, with the same details in `logs`.)",
        fix: r"Let the holders finish (or end them: `SELECT pg_terminate_backend(pid)`, `KILL id`) and run `keel deploy` again; or allow longer waits: `--lock-timeout`, `--lock-attempts`, keel.toml `lock_timeout` / `lock_attempts`, or `-- keel:lock-timeout=…` in the migration.",
        example: r"error[K4080]: migration `20240105120000_add_orders` gave up after 5 attempts waiting for a lock (lock_timeout 2000 ms each) at step 1 of 2 (line 1: `ALTER TABLE orders ADD COLUMN total integer`); nothing of it took effect
locks held by:
  - the step waited too long for a lock on orders, held now by: pid 4242 (application 'psql', idle in transaction, transaction open for 312 s, query: SELECT * FROM orders FOR UPDATE). Wait for it or end it (`SELECT pg_terminate_backend(pid)`), then retry
  fix: the holders above block the step: wait for them to finish (or end them: `SELECT pg_terminate_backend(pid)`) and run `keel deploy` again; or allow longer waits with --lock-timeout / --lock-attempts (keel.toml lock_timeout, lock_attempts; -- keel:lock-timeout= in the migration)",
    },
    K4081 {
        cause: r"The deploy lock was gone before the next migration: the previous one released it (`pg_advisory_unlock_all()`, `RELEASE_ALL_LOCKS()`) or it was ended from outside. keel stops so that no other deploy can run beside it; the migrations applied so far are recorded.",
        fix: r"Remove the lock release from that migration, then `keel deploy` again.",
        example: r"error[K4081]: the deploy lock was released while `20240105120000_add_orders` ran (it calls pg_advisory_unlock_all() or RELEASE_ALL_LOCKS(), or the lock was ended from outside); keel stopped before the next migration so that no other deploy runs beside it; applied: 20240105120000_add_orders
  fix: remove the lock release from `20240105120000_add_orders` (keel holds the deploy lock for the whole deploy), then `keel deploy` again to apply the rest",
    },
    K4090 {
        cause: r"PostgreSQL holds an INVALID index: a `CREATE INDEX CONCURRENTLY` that failed, was cancelled (lock_timeout while it waited for an old transaction such as a `pg_dump`) or was killed left it behind. Queries do not use it; every write still maintains it, and a unique one still rejects duplicates. `IF NOT EXISTS` skips it. keel drops the INVALID index a step of its own left before it retries or records the failure, and before it runs a `CREATE INDEX CONCURRENTLY` of the same name; `status` (exit 3), `doctor`, `deploy` and `drift` name any other.",
        fix: r"`DROP INDEX CONCURRENTLY name;` then create it again: `keel deploy` does for a migration that is not applied yet; for an applied one run its `CREATE INDEX CONCURRENTLY` by hand.",
        example: r#"repair[K4090]: index "orders_ref_key" on "orders" is INVALID
  fix: `DROP INDEX CONCURRENTLY "orders_ref_key";`, then create it again (keel deploy does when its migration is pending, keel repair --finish when it is failed)"#,
    },
    K4100 {
        cause: r"`keel execute FILE` or `keel drift --revert` would drop a table or column that holds data; the message lists each with its rows or non-NULL values (counted on the target before anything runs). Nothing ran.",
        fix: r"Keep the data first (copy the rows elsewhere), or accept the loss with `--allow-data-loss`; `--dry-run` prints the statements and the counts.",
        example: r#"error[K4100]: `keel drift --revert` would drop data: table "notes" (3 rows); column "users"."phone" (1 non-NULL value)
  fix: keep the data first (copy the rows elsewhere), or accept the loss with `keel drift --revert --allow-data-loss`"#,
    },
    K4101 {
        cause: r"`keel execute` or `keel drift --revert` was not confirmed: the answer was not `yes`, or keel was not on a terminal and `--yes` was not given. The statements and the data they drop were printed; nothing ran.",
        fix: r"Review what was printed, then run again on a terminal and type `yes`, or add `--yes`.",
        example: r"error[K4101]: `keel execute fix.sql` not confirmed; nothing changed
  fix: run `keel execute fix.sql` on a terminal and confirm, or add --yes (`--dry-run` shows what it runs)",
    },
    K4102 {
        cause: r"A statement of `keel execute` or `keel drift --revert` failed. The message names it (step, line, first line) and the server's error. In a transaction (PostgreSQL, SQLite) nothing of the script remains; statement by statement (MySQL/MariaDB DDL, `CONCURRENTLY`) the statements before it took effect.",
        fix: r"Fix the cause the server names and run the command again; `keel drift` shows where the schema stands.",
        example: r#"error[K4102]: `keel execute fix.sql` failed at step 2 of 2 (line 2: `INSERT INTO no_such_table VALUES (1)`): relation "no_such_table" does not exist (code 42P01). It ran in a transaction: nothing changed
  fix: fix the cause the server names, then `keel execute fix.sql` again (`keel drift` shows where the schema stands)"#,
    },
    K4103 {
        cause: r"After `keel drift --revert` ran its SQL, or after `keel drift --record NAME` wrote its migration, the schema is not what it had to be (the history's schema, or the live schema replayed from the history with the new migration): something keel's model does not express differs. In a transaction the revert was rolled back; a recorded migration that does not replay is removed and not recorded.",
        fix: r"`keel drift` shows what remains; write that change by hand (in a migration, or with `keel execute`).",
        example: r"error[K4103]: after `keel drift --revert` the schema is not the schema its applied migrations produce; nothing was recorded. Differences: added index `users_phone` on `users`
  fix: run `keel drift` to see where the schema stands now; write the remaining change by hand",
    },
    K4104 {
        cause: r"`keel drift --revert` or `--record` refused before anything ran: a migration is failed (K3009: its state must be repaired first), or, for `--record`, migrations are pending (the new migration would be recorded as applied before them).",
        fix: r"Run `keel doctor` and the fix it names (`keel repair`, `keel deploy`), then `keel drift` again.",
        example: r"error[K4104]: `keel drift --record add_phone` refused: 1 migration(s) are pending (20240105120000_add_orders): the new migration would be recorded as applied before them
  fix: run `keel deploy` first, then `keel drift` again",
    },
}
