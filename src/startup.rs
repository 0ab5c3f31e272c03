//! Builds the application from [`Settings`]: database pool and migrations, token keys, schema, HTTP server.

use crate::auth::jwt::JwtKeys;
use crate::config::{resolve_jwt_secret, SecretSource, Settings};
use crate::db::{Database, DbTarget, PoolSettings};
use crate::http::{self, AppState};
use crate::service::{Clock, Services};
use anyhow::Context as _;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

/// Connects to the database named in the settings (lazily) and applies pending migrations.
pub async fn open_database(settings: &Settings) -> anyhow::Result<(Database, DbTarget)> {
    let target = DbTarget::parse(&settings.database_url).map_err(anyhow::Error::msg)?;
    let db = Database::connect(
        &target,
        &PoolSettings {
            max_size: settings.db_pool_size.max(1),
            connect_timeout: Duration::from_secs(5),
        },
    )?;
    let migrating = db.clone();
    let applied = tokio::task::spawn_blocking(move || migrating.migrate())
        .await?
        .with_context(|| format!("could not migrate the {} database", target.backend.name()))?;
    for version in &applied {
        tracing::info!(migration.version = %version, "migration applied");
    }
    Ok((db, target))
}

/// The token keys for the settings.
pub fn jwt_keys(settings: &Settings, target: &DbTarget) -> anyhow::Result<(JwtKeys, SecretSource)> {
    let (secret, source) = resolve_jwt_secret(settings, target)?;
    let keys = JwtKeys::hs256(&secret, &settings.jwt_issuer, &settings.jwt_audience)
        .map_err(anyhow::Error::msg)?;
    Ok((keys, source))
}

/// A built, bound, not yet running application.
pub struct Application {
    addr: SocketAddr,
    server: actix_web::dev::Server,
    services: Services,
    target: DbTarget,
    secret_source: SecretSource,
}

impl Application {
    /// Builds everything and binds the listen address (port 0 picks a free port, as tests do).
    pub async fn build(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        let (db, target) = open_database(settings).await?;
        let (keys, secret_source) = jwt_keys(settings, &target)?;
        let rules = settings.schedule_rules().map_err(anyhow::Error::msg)?;
        let services =
            Services::with_feed_capacity(db, clock, settings.feed_capacity).with_rules(rules);
        let state = AppState {
            schema: crate::graphql::build_schema_with(
                Some(services.clone()),
                &crate::graphql::Limits {
                    depth: settings.max_depth,
                    complexity: settings.max_complexity,
                    introspection: !settings.production(),
                },
            ),
            keys,
            services: services.clone(),
            max_body_bytes: settings.max_body_bytes,
            ws_init_timeout: Duration::from_millis(settings.ws_init_timeout_ms),
            max_aliases: settings.max_aliases,
            query_timeout: Duration::from_millis(settings.query_timeout_ms.max(1)),
            graphiql: !settings.production(),
        };
        let poll = Duration::from_millis(settings.alert_poll_ms.max(50));
        services.feed.spawn_pump(services.db.clone(), poll);
        if target.backend == crate::db::Backend::Postgres {
            services
                .feed
                .spawn_pg_listener(target.connect.clone(), poll);
        }
        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("could not listen on {}", settings.listen))?;
        let addr = listener.local_addr()?;
        let workers = settings.workers.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        });
        let server = http::server(listener, state, workers)?;
        Ok(Application {
            addr,
            server,
            services,
            target,
            secret_source,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    pub fn database(&self) -> &DbTarget {
        &self.target
    }

    pub fn secret_source(&self) -> &SecretSource {
        &self.secret_source
    }

    /// A handle that stops the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (Ctrl-C or SIGTERM finishes in-flight requests first).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
