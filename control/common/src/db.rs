//! The database of a service: SQLite (embedded, the default) or PostgreSQL, chosen by the
//! URL, through sqlx's `any` driver so that one body of SQL serves both. The SQL the services
//! write is the common subset: `$n` placeholders (SQLite reads them too), `BIGINT` and `TEXT`
//! columns, times as Unix seconds, lists as JSON text, `INSERT ... ON CONFLICT`.
//!
//! Migrations are plain SQL per backend, run at start by sqlx's migrator (which takes a lock
//! on PostgreSQL, so two services starting together do not race). The services can share one
//! PostgreSQL database: each numbers its migrations in its own thousand (catalog 1000s,
//! entitlement 2000s, billing 3000s) and ignores the others'.

use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::AnyPool;

use crate::problem::{Problem, ProblemType};

/// Which server the URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why the database cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL {0:?}: use sqlite:PATH, sqlite::memory: or postgres://...")]
    UnknownUrl(String),
    #[error("cannot create {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the database: {0}")]
    Connect(sqlx::Error),
    #[error("the migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database: {0}")]
    Query(#[from] sqlx::Error),
}

/// One migration, in the SQL of each backend.
pub struct Step {
    pub version: i64,
    pub description: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// A pool on one database.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

/// The backend a URL names.
pub fn backend_of(url: &str) -> Result<Backend, DbError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(DbError::UnknownUrl(redact(url)))
    }
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// The SQLite URL of a file in a data directory.
pub fn sqlite_file(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

impl Db {
    /// Connects (creating a SQLite file and its directory when missing) and runs `steps`.
    pub async fn open(url: &str, max_connections: u32, steps: &[Step]) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let mut url = url.to_owned();
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5));
        if backend == Backend::Sqlite {
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            if memory {
                // Every connection of a pool would get a database of its own.
                options = options.max_connections(1);
            } else {
                let path = url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:");
                let path = path.split('?').next().unwrap_or(path);
                if let Some(dir) = Path::new(path)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir).map_err(|source| DbError::Directory {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                if !url.contains('?') {
                    url.push_str("?mode=rwc");
                }
            }
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    // Writers wait for each other instead of failing at once; WAL lets
                    // readers go on while one writes.
                    sqlx::query("PRAGMA busy_timeout = 5000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA synchronous = NORMAL")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await.map_err(DbError::Connect)?;
        let db = Db { pool, backend };
        db.migrate(steps).await?;
        Ok(db)
    }

    async fn migrate(&self, steps: &[Step]) -> Result<(), DbError> {
        let migrations: Vec<Migration> = steps
            .iter()
            .map(|s| {
                let sql = match self.backend {
                    Backend::Sqlite => s.sqlite,
                    Backend::Postgres => s.postgres,
                };
                Migration::new(
                    s.version,
                    Cow::Borrowed(s.description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        let mut migrator = Migrator::DEFAULT;
        migrator.migrations = Cow::Owned(migrations);
        // Other services' migrations share the table in a shared PostgreSQL database.
        migrator.ignore_missing = true;
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// A database error as the caller sees it: 503, so a client retries later. The error itself
/// goes to the log, not to the caller.
pub fn unavailable(e: sqlx::Error) -> Problem {
    tracing::error!(error = %e, "database error");
    Problem::new(
        ProblemType::DatabaseUnavailable,
        "the database did not answer; retry later",
    )
}

/// A stored document that no longer parses: a bug or a hand edit, 500.
pub fn corrupt(what: &str, id: &str, e: serde_json::Error) -> Problem {
    tracing::error!(error = %e, what, id, "stored document does not parse");
    Problem::new(
        ProblemType::Internal,
        format!("the stored {what} {id:?} is unreadable"),
    )
}

/// One page of `table` in id order: the rows after `page`'s cursor, one more than its limit
/// (so [`Page::from_fetched`](crate::page::Page::from_fetched) knows whether there is a next
/// page), optionally only those whose `column` equals a value. `columns`, `table` and `column`
/// are the caller's constants, never input.
pub async fn page_rows(
    db: &Db,
    columns: &str,
    table: &str,
    only: Option<(&str, &str)>,
    page: &crate::page::PageQuery,
) -> Result<Vec<sqlx::any::AnyRow>, Problem> {
    let fetch = i64::from(page.limit()?) + 1;
    let rows = match only {
        Some((column, value)) => {
            sqlx::query(&format!(
                "SELECT {columns} FROM {table} WHERE {column} = $1 AND id > $2 ORDER BY id LIMIT $3"
            ))
            .bind(value)
            .bind(page.after())
            .bind(fetch)
            .fetch_all(&db.pool)
            .await
        }
        None => {
            sqlx::query(&format!(
                "SELECT {columns} FROM {table} WHERE id > $1 ORDER BY id LIMIT $2"
            ))
            .bind(page.after())
            .bind(fetch)
            .fetch_all(&db.pool)
            .await
        }
    };
    rows.map_err(unavailable)
}

/// Whether a write changed a row.
pub fn changed(r: &AnyQueryResult) -> bool {
    r.rows_affected() > 0
}

/// Whether an error is a unique-constraint violation (a concurrent insert of the same key).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    #[test]
    fn urls_name_backends_and_passwords_are_hidden() {
        assert_eq!(backend_of("sqlite::memory:").unwrap(), Backend::Sqlite);
        assert_eq!(
            backend_of("postgres://u:p@h/db").unwrap(),
            Backend::Postgres
        );
        assert!(backend_of("mysql://h/db").is_err());
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite:/x.db"), "sqlite:/x.db");
    }

    const STEPS: &[Step] = &[Step {
        version: 9001,
        description: "things",
        sqlite: "CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT NOT NULL)",
        postgres: "CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    }];

    #[tokio::test]
    async fn a_sqlite_file_is_made_migrated_and_takes_dollar_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_file(&dir.path().join("sub"), "t.db");
        let db = Db::open(&url, 2, STEPS).await.unwrap();
        sqlx::query("INSERT INTO things (id, n) VALUES ($1, $2)")
            .bind("a")
            .bind(7i64)
            .execute(&db.pool)
            .await
            .unwrap();
        // A second start runs no migration twice.
        drop(db);
        let db = Db::open(&url, 2, STEPS).await.unwrap();
        let row = sqlx::query("SELECT n FROM things WHERE id = $1")
            .bind("a")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(row.get::<i64, _>(0), 7);
        assert!(db.ping().await);
    }
}
