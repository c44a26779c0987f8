//! Database access: one connection type over SQLite and PostgreSQL, the pool, and migrations.

pub mod schema;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection over both backends; the variant is chosen from the URL scheme.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs the same diesel expression on the concrete connection, for the few queries
/// (`on_conflict`, multi-row inserts) that do not compile through [`DbConnection`].
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// Runs `f` in a write transaction. On SQLite it begins with `BEGIN IMMEDIATE`, taking the write
/// lock first (waiting up to `busy_timeout`): a deferred transaction that reads and then writes
/// fails at once with SQLITE_BUSY when another connection wrote in between. Nested calls become
/// savepoints. On PostgreSQL it is an ordinary transaction; rows that must not change under it
/// are locked with `SELECT … FOR UPDATE` (see `qa::lock_post`).
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let outermost_sqlite = match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::transaction_manager_status_mut(inner).transaction_depth()?.is_none()
        }
        DbConnection::Postgresql(_) => false,
    };
    if !outermost_sqlite {
        return conn.transaction(f);
    }
    if let DbConnection::Sqlite(inner) = conn {
        AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    }
    type Manager = <DbConnection as Connection>::TransactionManager;
    match f(conn) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = Manager::rollback_transaction(conn);
                Err(e.into())
            }
        },
        Err(e) => {
            Manager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

pub type DbPool = Pool<ConnectionManager>;
pub type PooledConn = PooledConnection<ConnectionManager>;

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(String),
    Postgres(String),
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path".into());
            }
            Ok(DbUrl::Sqlite(path.to_string()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbUrl::Postgres(url.to_string()))
        } else {
            Err(format!(
                "unsupported database URL scheme in {:?}: use sqlite:// or postgres://",
                crate::settings::mask_credentials(url)
            ))
        }
    }
}

/// Establishes concrete connections itself so real errors (wrong password, unreachable host)
/// reach the user, and sets SQLite up on every new connection.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DbUrl,
}

impl ConnectionManager {
    pub fn new(url: DbUrl) -> Self {
        ConnectionManager { url }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

pub fn establish(url: &DbUrl) -> Result<DbConnection, ConnError> {
    match url {
        DbUrl::Postgres(u) => Ok(DbConnection::Postgresql(PgConnection::establish(u)?)),
        DbUrl::Sqlite(path) => {
            if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    diesel::ConnectionError::BadConnection(format!("cannot create folder {}: {e}", parent.display()))
                })?;
            }
            let mut c = SqliteConnection::establish(path)?;
            // busy_timeout must come before WAL, or concurrent opens see "database is locked".
            c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
            )?;
            Ok(DbConnection::Sqlite(c))
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = ConnError;

    fn connect(&self) -> Result<DbConnection, ConnError> {
        establish(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnError> {
        conn.batch_execute("SELECT 1").map_err(ConnError::from)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// Builds the pool, creating the SQLite file's folder if needed. Fails fast with the real error.
pub fn build_pool(url: &DbUrl, size: u32) -> anyhow::Result<DbPool> {
    // Try one connection first so the caller sees the database's own message.
    establish(url).map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(ConnectionManager::new(url.clone()))?;
    Ok(pool)
}

/// Applies pending migrations under a lock so that nodes starting together do not race:
/// a PostgreSQL advisory lock, or an exclusive file lock beside the SQLite file.
pub fn run_migrations(url: &DbUrl) -> anyhow::Result<Vec<String>> {
    let mut conn = establish(url)?;
    let applied = match (&mut conn, url) {
        (DbConnection::Postgresql(c), _) => {
            c.batch_execute("SELECT pg_advisory_lock(7340121)")?;
            let result =
                c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.iter().map(|m| m.to_string()).collect());
            c.batch_execute("SELECT pg_advisory_unlock(7340121)")?;
            result
        }
        (DbConnection::Sqlite(c), DbUrl::Sqlite(path)) => {
            let lock = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(format!("{path}.migrate-lock"))?;
            lock.lock()?;
            let result = c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.iter().map(|m| m.to_string()).collect());
            lock.unlock()?;
            result
        }
        (DbConnection::Sqlite(_), DbUrl::Postgres(_)) => unreachable!("connection established from this URL"),
    };
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

/// Reverts every migration (used by the up → down → up test and `nave migrate --reset`).
pub fn revert_all_migrations(url: &DbUrl) -> anyhow::Result<()> {
    let mut conn = establish(url)?;
    match &mut conn {
        DbConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    }
    .map_err(|e| anyhow::anyhow!("reverting migrations failed: {e}"))
}
