//! `keel diff --from SRC --to SRC`: the plan between two schemas, each read from a database,
//! the migrations directory or a DDL file (replayed in a shadow database), the target's
//! ledger, or nothing.

use crate::error::Error;
use crate::project::Project;
use crate::settings::Settings;
use crate::shadow::Shadow;
use keel_core::ledger::State;
use keel_core::migrations::{self, Migration};
use keel_core::schema::diff::diff as diff_schemas;
use keel_core::schema::plan::Plan;
use keel_core::schema::Schema;
use keel_core::Dialect;
use keel_driver::parse_url;
use std::path::PathBuf;
use std::str::FromStr;

/// Where a schema comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Nothing: an empty schema.
    Empty,
    /// A live database, introspected (read-only).
    Url(String),
    /// The migrations directory (the configured one when `None`), replayed in a shadow.
    Migrations(Option<PathBuf>),
    /// A DDL file applied to a shadow, so that the real engine interprets it.
    SchemaFile(PathBuf),
    /// The target's applied migrations (per its ledger), replayed in a shadow.
    Ledger,
}

impl FromStr for Source {
    type Err = Error;

    /// Parses `empty`, `migrations`, `migrations=DIR`, `schema=FILE`, `schema` (= `schema.sql`),
    /// `ledger`, or a database URL.
    fn from_str(s: &str) -> Result<Source, Error> {
        let bad = || Error::BadSource {
            source_text: keel_core::redact::redact_url(s),
        };
        match s.split_once('=') {
            _ if s == "empty" => Ok(Source::Empty),
            _ if s == "migrations" => Ok(Source::Migrations(None)),
            _ if s == "schema" => Ok(Source::SchemaFile("schema.sql".into())),
            _ if s == "ledger" => Ok(Source::Ledger),
            _ if s.contains("://") || s.starts_with("sqlite:") => Ok(Source::Url(s.to_string())),
            Some(("migrations", dir)) if !dir.is_empty() => {
                Ok(Source::Migrations(Some(dir.into())))
            }
            Some(("schema", file)) if !file.is_empty() => Ok(Source::SchemaFile(file.into())),
            _ => Err(bad()),
        }
    }
}

/// The result of a diff.
#[derive(Debug, Clone)]
pub struct DiffReport {
    /// The plan from `--from` to `--to`.
    pub plan: Plan,
    /// One readable line per change.
    pub summary: Vec<String>,
    /// The shadow databases used, for the record.
    pub shadows: Vec<String>,
    /// What a `schema.prisma` side kept of the other side, one line per object (see
    /// [`read_pair`]).
    pub kept: Vec<String>,
    /// The external tables and enums left out (see [`Pair::external`]).
    pub external: Vec<String>,
}

impl DiffReport {
    /// The SQL that turns `--from` into `--to`.
    ///
    /// # Errors
    /// [`Error::Render`] when a change cannot be expressed on this database.
    pub fn script(&self) -> Result<String, Error> {
        Ok(keel_core::schema::render::render_script(&self.plan)?)
    }
}

/// Reads both sources and diffs them; `strict` as in [`read_pair`].
///
/// # Errors
/// Driver, migrations-directory and shadow errors (K3014, K3006), [`Error::BadSource`].
pub async fn diff(
    settings: &Settings,
    from: &Source,
    to: &Source,
    strict: bool,
) -> Result<DiffReport, Error> {
    let dialect = [from, to]
        .iter()
        .find_map(|s| match s {
            Source::Url(u) => Some(parse_url(u).map(|p| p.dialect())),
            _ => None,
        })
        .map_or_else(
            || match settings.url() {
                Ok(p) => Ok(p.dialect()),
                // No database URL: a schema.prisma's provider decides (and its error is the
                // one to report, not the missing URL).
                Err(e) => prisma_dialect(settings, &[from, to]).unwrap_or(Err(e)),
            },
            |r| r.map_err(Error::from),
        )?;
    let mut shadows = Vec::new();
    let pair = read_pair(settings, dialect, from, to, strict, &mut shadows).await?;
    let plan = diff_schemas(dialect, &pair.from, &pair.to);
    let summary = keel_core::schema::summary::summarize(&plan);
    Ok(DiffReport {
        plan,
        summary,
        shadows,
        kept: pair.kept,
        external: pair.external,
    })
}

fn is_prisma_source(s: &Source) -> bool {
    matches!(s, Source::SchemaFile(p) if keel_prisma::is_prisma(p))
}

/// Reads both sources. When one side is a `schema.prisma` and the other is not, the Prisma
/// side keeps what the other holds that the Prisma schema language cannot describe (see
/// [`keel_prisma::keep`]), so that no plan drops (or adds) it; `strict` compares them as
/// they are. Either way the Prisma side takes the other's spelling of what means the same
/// (MariaDB's JSON, decimal zeros), and the external tables and enums `prisma.config.ts`
/// names (`tables.external`, `enums.external`) take the other side's shape, so that nothing
/// is planned for them (as Prisma Migrate, which leaves them to their owner).
///
/// # Errors
/// As [`diff`], and [`Error::Config`] (K4020) when the external lists of `prisma.config.ts`
/// are computed or name a table in the wrong form (Prisma's P3023/P3024).
pub async fn read_pair(
    settings: &Settings,
    dialect: Dialect,
    from: &Source,
    to: &Source,
    strict: bool,
    shadows: &mut Vec<String>,
) -> Result<Pair, Error> {
    let prisma_side = match (is_prisma_source(from), is_prisma_source(to)) {
        (false, true) => Some((to, false)),
        (true, false) => Some((from, true)),
        _ => None,
    };
    let Some((Source::SchemaFile(path), prisma_is_from)) = prisma_side else {
        return Ok(Pair {
            from: read_source(settings, dialect, from, shadows).await?,
            to: read_source(settings, dialect, to, shadows).await?,
            kept: Vec::new(),
            external: Vec::new(),
        });
    };
    let other = read_source(
        settings,
        dialect,
        if prisma_is_from { to } else { from },
        shadows,
    )
    .await?;
    let mut desired = read_prisma_for(settings, path, dialect)?;
    keel_prisma::same_spelling(&mut desired, &other);
    let lists = external_lists(settings)?;
    let external = if lists.is_empty() {
        Vec::new()
    } else {
        keel_prisma::ignore_external(&mut desired, &other, &lists).map_err(|message| {
            Error::Config {
                path: crate::prisma_config::file(&settings.project).unwrap_or_default(),
                message,
            }
        })?
    };
    let kept = if strict {
        Vec::new()
    } else {
        keel_prisma::keep_undescribed(&mut desired, &other)
    };
    let (from, to) = if prisma_is_from {
        (desired.schema, other)
    } else {
        (other, desired.schema)
    };
    Ok(Pair {
        from,
        to,
        kept,
        external,
    })
}

/// The external tables and enums `prisma.config.ts` names (empty without one).
///
/// # Errors
/// [`Error::Config`] (K4020) when a list is computed by code.
fn external_lists(settings: &Settings) -> Result<keel_prisma::External, Error> {
    match crate::prisma_config::external_lists(&settings.project) {
        crate::prisma_config::ExternalLists::Literal(e) => Ok(e),
        crate::prisma_config::ExternalLists::NotLiteral { file, key } => Err(Error::Config {
            path: settings.project.join(file),
            message: format!("`{key}` is computed by code, which keel does not run; write it as an array of string literals"),
        }),
    }
}

/// `history` (a replayed history) with the external tables and enums of `prisma.config.ts`
/// as `live` has them, so that a comparison of the two says nothing of what their owner
/// changed (as Prisma Migrate's drift detection). Returns one line per external object.
///
/// # Errors
/// [`Error::Config`] (K4020) when a list is computed by code.
pub(crate) fn leave_external(
    settings: &Settings,
    history: &mut Schema,
    live: &Schema,
) -> Result<Vec<String>, Error> {
    let lists = external_lists(settings)?;
    if lists.is_empty() {
        return Ok(Vec::new());
    }
    Ok(keel_prisma::leave_external(
        history,
        live,
        &lists,
        &current_schema(settings),
    ))
}

/// The target's PostgreSQL schema as the URL names it (`?schema=`), else `public`: the
/// schema whose objects the model holds with no namespace, for matching Prisma's names.
pub(crate) fn current_schema(settings: &Settings) -> String {
    settings
        .url()
        .ok()
        .and_then(|u| u.schema())
        .unwrap_or_else(|| "public".into())
}

/// Two schemas read for a comparison ([`read_pair`]).
#[derive(Debug, Clone)]
pub struct Pair {
    /// The `--from` side.
    pub from: Schema,
    /// The `--to` side.
    pub to: Schema,
    /// What a `schema.prisma` side kept of the other side, one line per object.
    pub kept: Vec<String>,
    /// The external tables and enums of `prisma.config.ts` (`tables.external`,
    /// `enums.external`) left out of the comparison, one line each.
    pub external: Vec<String>,
}

/// The provider of the first `schema=FILE.prisma` side, when no database URL decides.
fn prisma_dialect(settings: &Settings, sides: &[&Source]) -> Option<Result<Dialect, Error>> {
    sides.iter().find_map(|s| match s {
        Source::SchemaFile(p) if keel_prisma::is_prisma(p) => {
            Some(read_prisma(settings, p).map(|d| d.dialect))
        }
        _ => None,
    })
}

/// The schema a source describes.
///
/// # Errors
/// As [`diff`].
pub async fn read_source(
    settings: &Settings,
    dialect: Dialect,
    source: &Source,
    shadows: &mut Vec<String>,
) -> Result<Schema, Error> {
    match source {
        Source::Empty => Ok(Schema::default()),
        Source::Url(url) => {
            let mut d = keel_driver::connect(url).await?;
            let r = d.introspect().await;
            d.close().await;
            Ok(r?)
        }
        Source::Migrations(dir) => {
            let dir = dir
                .clone()
                .unwrap_or_else(|| settings.migrations_dir.clone());
            let read = migrations::read_dir(&dir)?;
            read.check_provider(dialect)?;
            let all: Vec<&Migration> = read.migrations.iter().collect();
            in_shadow(settings, dialect, &all, shadows).await
        }
        Source::SchemaFile(path) if keel_prisma::is_prisma(path) => {
            Ok(read_prisma_for(settings, path, dialect)?.schema)
        }
        Source::SchemaFile(path) => {
            let bytes = std::fs::read(path).map_err(|source| {
                Error::Migrations(keel_core::migrations::MigrationsError::Io {
                    path: path.clone(),
                    source,
                })
            })?;
            let m = Migration::from_bytes(&path.display().to_string(), path.clone(), None, bytes)?;
            in_shadow(settings, dialect, &[&m], shadows).await
        }
        Source::Ledger => {
            let mut project = Project::open(settings).await?;
            let r = project.reconcile().await;
            project.close().await;
            let (_, reconciled) = r?;
            let dir = settings.read_migrations()?;
            let applied: Vec<&Migration> = reconciled
                .entries
                .iter()
                .filter(|e| matches!(e.state, State::Applied | State::Modified))
                .filter_map(|e| dir.get(&e.name))
                .collect();
            in_shadow(settings, dialect, &applied, shadows).await
        }
    }
}

/// Reads `schema.prisma` (a file or a folder) as the desired schema, its objects without
/// `@@schema` in the configured URL's `?schema=` (PostgreSQL; `public` without one).
///
/// # Errors
/// [`Error::Prisma`] (K1012).
pub fn read_prisma(
    settings: &Settings,
    path: &std::path::Path,
) -> Result<keel_prisma::Desired, Error> {
    let ast = keel_prisma::read(path)?;
    let current = settings.url().ok().and_then(|u| u.schema());
    Ok(keel_prisma::build(&ast, current.as_deref())?)
}

/// [`read_prisma`], refused when its provider is not `dialect`'s.
fn read_prisma_for(
    settings: &Settings,
    path: &std::path::Path,
    dialect: Dialect,
) -> Result<keel_prisma::Desired, Error> {
    let desired = read_prisma(settings, path)?;
    if desired.dialect != dialect {
        return Err(keel_prisma::PslError::at(
            path,
            0,
            0,
            format!(
                "its datasource's provider is {}, but the database is {}",
                desired.dialect, dialect
            ),
        )
        .into());
    }
    Ok(desired)
}

async fn in_shadow(
    settings: &Settings,
    dialect: Dialect,
    migrations: &[&Migration],
    shadows: &mut Vec<String>,
) -> Result<Schema, Error> {
    let allowed = crate::shadow::temp_schema_allowed(migrations);
    let mut shadow = Shadow::open_for(settings, dialect, allowed).await?;
    shadows.push(shadow.strategy.clone());
    let result = async {
        shadow.replay(migrations).await?;
        shadow.introspect().await
    }
    .await;
    shadow.close().await;
    result
}
