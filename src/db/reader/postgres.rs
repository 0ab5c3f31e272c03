//! The PostgreSQL side of `db::reader`: each thread that reads keeps one connection of its own (diesel-async over
//! tokio-postgres), driven by a task on the thread's own runtime, and the statements of all its requests in flight
//! are pipelined on it.

use crate::db::pool::StatementCounter;
use crate::db::session::PgSession;
use crate::error::{AppError, AppResult};
use diesel::result::{DatabaseErrorKind, Error};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thread_local::ThreadLocal;

/// The `application_name` of the reading connections, unless the database URL sets one.
pub const APPLICATION_NAME: &str = "orderwatch reads";

/// Each thread's connection for reads, opened on first use and replaced when it fails.
pub struct PgReader {
    config: tokio_postgres::Config,
    session: PgSession,
    connect_timeout: Duration,
    counter: StatementCounter,
    connections: ThreadLocal<Slot>,
}

/// How long after a connection could not be opened a thread's reads go straight to the pool.
const RETRY_OPEN_AFTER: Duration = Duration::from_secs(10);

/// libpq's environment variables that change where or how the pool connects; tokio-postgres reads none of them.
const LIBPQ_ENVIRONMENT: &[&str] = &[
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGOPTIONS",
    "PGAPPNAME",
    "PGSSLMODE",
    "PGREQUIRESSL",
    "PGSSLCERT",
    "PGSSLKEY",
    "PGSSLROOTCERT",
    "PGGSSENCMODE",
    "PGCHANNELBINDING",
    "PGCONNECT_TIMEOUT",
    "PGTARGETSESSIONATTRS",
    "PGCLIENTENCODING",
    "PGTZ",
    "PGDATESTYLE",
];

/// A thread's connection, and the lock that makes its requests in flight wait for one opening instead of each
/// opening its own (a cold start or a database restart would otherwise open dozens at once).
#[derive(Default)]
struct Slot {
    conn: Mutex<Option<Arc<AsyncPgConnection>>>,
    /// Held while a connection is opened; holds when the last attempt failed.
    opening: tokio::sync::Mutex<Option<Instant>>,
}

impl Slot {
    fn kept(&self) -> Option<Arc<AsyncPgConnection>> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Drops the thread's connection if it is still `conn` (a concurrent read may have replaced it already).
    fn forget(&self, conn: &Arc<AsyncPgConnection>) {
        let mut kept = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if kept.as_ref().is_some_and(|k| Arc::ptr_eq(k, conn)) {
            *kept = None;
        }
    }
}

impl PgReader {
    /// For the database at `url` (a URL the pool accepted), with the pool's session bounds and connect timeout;
    /// statements are counted with the pool's (`Database::statements_sent`). `None`, and reads go through the pool,
    /// when the URL asks for what these connections do not do: TLS to a host other than this machine (they speak
    /// none), or an option only libpq knows; or when libpq may connect elsewhere or as someone else than the URL
    /// says (its environment variables, or a password file for a URL without a password).
    pub(crate) fn new(
        url: &str,
        session: PgSession,
        connect_timeout: Duration,
        sent: Arc<std::sync::atomic::AtomicU64>,
    ) -> Option<PgReader> {
        let mut config = match url.parse::<tokio_postgres::Config>() {
            Ok(config) if plain_text_is_enough(&config) => config,
            Ok(_) => {
                tracing::info!("reads go through the pool: the database URL asks for TLS, or allows it to another machine");
                return None;
            }
            Err(_) => {
                tracing::info!(
                    "reads go through the pool: the database URL has an option only libpq knows"
                );
                return None;
            }
        };
        let pgpass = std::env::var_os("HOME")
            .is_some_and(|home| std::path::Path::new(&home).join(".pgpass").exists());
        let set: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .collect();
        if let Some(why) = libpq_differs(&config, &set, pgpass) {
            tracing::info!("reads go through the pool: {why}");
            return None;
        }
        // The pool's keepalives (`session::with_keepalives`) unless the URL sets its own: a peer gone without a word
        // is noticed in about a minute.
        let default_idle = Duration::from_secs(2 * 60 * 60);
        if config.get_keepalives_interval().is_none()
            && config.get_keepalives_retries().is_none()
            && config.get_keepalives_idle() == default_idle
        {
            config
                .keepalives(true)
                .keepalives_idle(Duration::from_secs(30))
                .keepalives_interval(Duration::from_secs(10))
                .keepalives_retries(3);
        }
        // How an operator tells these connections apart in `pg_stat_activity`.
        if config.get_application_name().is_none() {
            config.application_name(APPLICATION_NAME);
        }
        Some(PgReader {
            config,
            session,
            connect_timeout,
            counter: StatementCounter {
                sent,
                failed: Arc::default(),
            },
            connections: ThreadLocal::new(),
        })
    }

    /// Runs `read` on this thread's connection, opening one if there is none; `None` when none can be opened now,
    /// and the caller reads through the pool. A connection that fails a statement is dropped; when it had served
    /// before and the failure is the connection's (closed under it by a database restart, or its driver gone with
    /// an old runtime), the read is tried once more on a new one, and a lost connection is `UNAVAILABLE`.
    ///
    /// The thread's reads wait on one another only as the database answers them in turn: a statement that waits
    /// for a lock holds up those sent after it on the same connection, for at most the lock timeout.
    pub async fn read<T, F, Fut>(&self, read: F) -> Option<AppResult<T>>
    where
        F: Fn(Arc<AsyncPgConnection>) -> Fut,
        Fut: Future<Output = diesel::QueryResult<T>>,
    {
        let slot = self.connections.get_or_default();
        let (conn, fresh) = match slot.kept() {
            Some(conn) => (conn, false),
            None => (self.open(slot).await?, true),
        };
        let failure = match read(conn.clone()).await {
            Ok(v) => return Some(Ok(v)),
            Err(e) => e,
        };
        slot.forget(&conn);
        if fresh || !lost_connection(&failure) {
            return Some(Err(app_error(failure)));
        }
        let conn = self.open(slot).await?;
        Some(read(conn.clone()).await.map_err(|e| {
            slot.forget(&conn);
            app_error(e)
        }))
    }

    /// The thread's connection, opened if it has none; one opening at a time. `None` when it cannot be opened, and
    /// for [`RETRY_OPEN_AFTER`] after an attempt failed.
    async fn open(&self, slot: &Slot) -> Option<Arc<AsyncPgConnection>> {
        let mut failed_at = slot.opening.lock().await;
        if let Some(conn) = slot.kept() {
            return Some(conn);
        }
        if failed_at.is_some_and(|at| at.elapsed() < RETRY_OPEN_AFTER) {
            return None;
        }
        match self.connect().await {
            Ok(conn) => {
                *failed_at = None;
                *slot.conn.lock().unwrap_or_else(|e| e.into_inner()) = Some(conn.clone());
                Some(conn)
            }
            Err(e) => {
                tracing::warn!(error = %e, "no reading connection: reads go through the pool for 10 s");
                *failed_at = Some(Instant::now());
                None
            }
        }
    }

    /// A new connection with the server's session bounds.
    async fn connect(&self) -> anyhow::Result<Arc<AsyncPgConnection>> {
        let connect = self.config.connect(tokio_postgres::NoTls);
        let (client, connection) = tokio::time::timeout(self.connect_timeout, connect)
            .await
            .map_err(|_| {
                anyhow::anyhow!("no PostgreSQL connection within the connect timeout")
            })??;
        let mut conn =
            AsyncPgConnection::try_from_client_and_connection(client, connection).await?;
        conn.batch_execute(&self.session.set_statements()).await?;
        conn.set_instrumentation(self.counter.clone());
        Ok(Arc::new(conn))
    }
}

/// A failed read as the caller sees it: a lost connection is `UNAVAILABLE` (retry), whatever its SQLSTATE.
fn app_error(e: Error) -> AppError {
    if lost_connection(&e) {
        AppError::Unavailable(e.into())
    } else {
        e.into()
    }
}

/// Why libpq, which the pool connects with, may reach another database or role than these connections, which read
/// only the URL: one of its environment variables is set (`set`), or the URL has no password and a password file
/// exists (`pgpass`). `None` when both read the same.
fn libpq_differs(config: &tokio_postgres::Config, set: &[String], pgpass: bool) -> Option<String> {
    if let Some(var) = set.iter().find(|v| LIBPQ_ENVIRONMENT.contains(&v.as_str())) {
        return Some(format!("libpq's environment variable {var} is set"));
    }
    (pgpass && config.get_password().is_none())
        .then(|| "the URL has no password and ~/.pgpass exists".to_string())
}

/// True when a connection without TLS gives what the URL asks: it says `sslmode=disable`, or it does not say
/// `sslmode=require` and every host it names is this machine (a Unix socket, `localhost` or a loopback address),
/// where TLS would protect nothing.
fn plain_text_is_enough(config: &tokio_postgres::Config) -> bool {
    use tokio_postgres::config::{Host, SslMode};
    match config.get_ssl_mode() {
        SslMode::Disable => return true,
        SslMode::Require => return false,
        _ => {}
    }
    let local = |host: &Host| match host {
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    };
    !config.get_hosts().is_empty()
        && config.get_hosts().iter().all(local)
        && config.get_hostaddrs().iter().all(|ip| ip.is_loopback())
}

/// True when `e` says the connection is gone rather than the statement wrong: worth one more try on a new one.
fn lost_connection(e: &Error) -> bool {
    match e {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        Error::DatabaseError(_, info) => info.message().starts_with("terminating connection"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(url: &str) -> Option<PgReader> {
        PgReader::new(
            url,
            PgSession::default(),
            Duration::from_secs(1),
            Arc::default(),
        )
    }

    /// Plain-text reading connections only where the pool's would not use TLS to another machine either.
    #[test]
    fn reads_leave_the_pool_only_where_plain_text_is_enough() {
        for local in [
            "postgres://u@127.0.0.1:5432/db",
            "postgres://u@localhost/db",
            "postgres://u@[::1]/db",
            "postgres://u@db.example/db?sslmode=disable",
            "postgres://u@%2Frun%2Fpostgresql/db",
        ] {
            assert!(reader(local).is_some(), "{local}");
        }
        for remote in [
            "postgres://u@db.example/db",
            "postgres://u@10.0.0.5/db?sslmode=prefer",
            "postgres://u@db.example/db?sslmode=require",
            "postgres://u@127.0.0.1/db?sslmode=require",
            "postgres://u@127.0.0.1,db.example/db",
            // Options tokio-postgres does not know: left to libpq and the pool.
            "postgres://u@127.0.0.1/db?sslmode=verify-full",
            "postgres://u@127.0.0.1/db?gssencmode=disable",
        ] {
            assert!(reader(remote).is_none(), "{remote}");
        }
    }

    /// libpq's environment or password file may take the pool elsewhere than the URL: then reads stay on the pool.
    #[test]
    fn reads_stay_on_the_pool_where_libpq_may_connect_elsewhere() {
        let config: tokio_postgres::Config = "postgres://u@127.0.0.1/db".parse().unwrap();
        let with_password: tokio_postgres::Config = "postgres://u:p@127.0.0.1/db".parse().unwrap();
        let vars = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            libpq_differs(&config, &vars(&["PATH", "PGDATA", "HOME"]), false),
            None
        );
        for var in ["PGUSER", "PGDATABASE", "PGPASSWORD", "PGHOST", "PGSSLMODE"] {
            assert!(
                libpq_differs(&config, &vars(&["PATH", var]), false).is_some(),
                "{var}"
            );
        }
        assert!(
            libpq_differs(&config, &[], true).is_some(),
            "a password file"
        );
        assert_eq!(libpq_differs(&with_password, &[], true), None);
    }

    /// A reading connection has the pool's keepalives unless the URL sets its own, and says what it is.
    #[test]
    fn a_reading_connection_has_keepalives_and_a_name() {
        let r = reader("postgres://u@127.0.0.1/db").unwrap();
        assert!(r.config.get_keepalives());
        assert_eq!(r.config.get_keepalives_idle(), Duration::from_secs(30));
        assert_eq!(r.config.get_application_name(), Some(APPLICATION_NAME));
        let r = reader("postgres://u@127.0.0.1/db?keepalives_idle=5").unwrap();
        assert_eq!(r.config.get_keepalives_idle(), Duration::from_secs(5));
        let r = reader("postgres://u@127.0.0.1/db?application_name=x").unwrap();
        assert_eq!(r.config.get_application_name(), Some("x"));
    }
}
