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
use std::time::Duration;
use thread_local::ThreadLocal;

/// The `application_name` of the reading connections, unless the database URL sets one.
pub const APPLICATION_NAME: &str = "orderwatch reads";

/// Each thread's connection for reads, opened on first use and replaced when it fails.
pub struct PgReader {
    config: tokio_postgres::Config,
    session: PgSession,
    connect_timeout: Duration,
    counter: StatementCounter,
    connections: ThreadLocal<Mutex<Option<Arc<AsyncPgConnection>>>>,
}

impl PgReader {
    /// For the database at `url` (a URL the pool accepted), with the pool's session bounds and connect timeout;
    /// statements are counted with the pool's (`Database::statements_sent`). `None`, and reads go through the pool,
    /// when the URL asks for what these connections do not do: TLS to a host other than this machine (they speak
    /// none), or an option only libpq knows.
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
        // The pool's keepalives (`session::with_keepalives`): a peer gone without a word is noticed in about a minute.
        if !config.get_keepalives() || config.get_keepalives_interval().is_none() {
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

    /// Runs `read` on this thread's connection, opening one if there is none. A connection that fails a statement
    /// is dropped; when it had served before and the failure is the connection's (closed under it by a database
    /// restart, or its driver gone with an old runtime), the read is tried once more on a new one.
    pub async fn read<T, F, Fut>(&self, read: F) -> AppResult<T>
    where
        F: Fn(Arc<AsyncPgConnection>) -> Fut,
        Fut: Future<Output = diesel::QueryResult<T>>,
    {
        let slot = self.connections.get_or_default();
        let kept = slot.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let fresh = kept.is_none();
        let conn = match kept {
            Some(conn) => conn,
            None => self.open(slot).await?,
        };
        match read(conn.clone()).await {
            Ok(v) => Ok(v),
            Err(e) => {
                self.forget(slot, &conn);
                if fresh || !lost_connection(&e) {
                    return Err(e.into());
                }
                let conn = self.open(slot).await?;
                read(conn.clone()).await.map_err(|e| {
                    self.forget(slot, &conn);
                    e.into()
                })
            }
        }
    }

    /// A new connection with the server's session bounds, kept as this thread's.
    async fn open(
        &self,
        slot: &Mutex<Option<Arc<AsyncPgConnection>>>,
    ) -> AppResult<Arc<AsyncPgConnection>> {
        let connect = self.config.connect(tokio_postgres::NoTls);
        let (client, connection) = tokio::time::timeout(self.connect_timeout, connect)
            .await
            .map_err(|_| unavailable("no PostgreSQL connection within the connect timeout"))?
            .map_err(|e| AppError::Unavailable(e.into()))?;
        let mut conn = AsyncPgConnection::try_from_client_and_connection(client, connection)
            .await
            .map_err(|e| AppError::Unavailable(e.into()))?;
        conn.batch_execute(&self.session.set_statements()).await?;
        conn.set_instrumentation(self.counter.clone());
        let conn = Arc::new(conn);
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(conn.clone());
        Ok(conn)
    }

    /// Drops this thread's connection if it is still `conn` (a concurrent read may have replaced it already).
    fn forget(&self, slot: &Mutex<Option<Arc<AsyncPgConnection>>>, conn: &Arc<AsyncPgConnection>) {
        let mut kept = slot.lock().unwrap_or_else(|e| e.into_inner());
        if kept.as_ref().is_some_and(|k| Arc::ptr_eq(k, conn)) {
            *kept = None;
        }
    }
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

fn unavailable(why: &'static str) -> AppError {
    AppError::Unavailable(anyhow::anyhow!(why))
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

    /// A reading connection has the pool's keepalives unless the URL sets its own, and says what it is.
    #[test]
    fn a_reading_connection_has_keepalives_and_a_name() {
        let r = reader("postgres://u@127.0.0.1/db").unwrap();
        assert!(r.config.get_keepalives());
        assert_eq!(r.config.get_keepalives_idle(), Duration::from_secs(30));
        assert_eq!(r.config.get_application_name(), Some(APPLICATION_NAME));
        let r = reader("postgres://u@127.0.0.1/db?application_name=x").unwrap();
        assert_eq!(r.config.get_application_name(), Some("x"));
    }
}
