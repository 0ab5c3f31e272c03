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
            worker_reads: settings.worker_reads,
            pg_session: crate::db::PgSession {
                lock_timeout_ms: settings.pg_lock_timeout_ms,
                statement_timeout_ms: settings.pg_statement_timeout_ms,
                idle_in_transaction_timeout_ms: settings.pg_idle_in_transaction_timeout_ms,
            },
        },
    )?;
    let migrating = db.clone();
    let applied = tokio::task::spawn_blocking(move || migrating.migrate())
        .await?
        .with_context(|| format!("could not open and migrate the {}", target.describe()))?;
    for version in &applied {
        tracing::info!(migration.version = %version, "migration applied");
    }
    db.checkpoint_now(crate::db::upkeep::Checkpoint::Truncate)
        .await;
    // After the database is reached, so a database that cannot be opened is what an error names first.
    let (keys, source) = crate::config::audit::resolve_audit_keys(settings, &target)?;
    if source == crate::config::audit::AuditKeySource::Unkeyed {
        tracing::warn!("{source}");
    } else {
        tracing::info!("{source}");
    }
    Ok((db.with_audit_keys(keys), target))
}

/// The token keys for the settings. A development secret beside an SQLite file is created only when
/// `create_secret` (the server does; `orderwatch token` does not, so it never mints with a secret no server uses).
pub fn jwt_keys(
    settings: &Settings,
    target: &DbTarget,
    create_secret: bool,
) -> anyhow::Result<(JwtKeys, SecretSource)> {
    let needs_secret = settings.jwt_secret.is_some()
        || target.sqlite_path().is_some()
        || !settings.has_public_keys();
    let (mut keys, source) = if needs_secret {
        let (secret, source) = resolve_jwt_secret(settings, target, create_secret)?;
        (
            JwtKeys::hs256(&secret, &settings.jwt_issuer, &settings.jwt_audience)
                .map_err(anyhow::Error::msg)?,
            source,
        )
    } else {
        (
            JwtKeys::none(&settings.jwt_audience),
            SecretSource::PublicKeysOnly,
        )
    };
    let min_refresh = Duration::from_secs(settings.jwt_jwks_min_refresh_secs.max(1));
    if let Some(url) = &settings.jwt_jwks_url {
        keys = keys
            .trust_url(&settings.jwt_issuer, url, min_refresh)
            .map_err(anyhow::Error::msg)?;
    }
    for path in settings
        .jwt_public_key_file
        .iter()
        .chain(settings.jwt_jwks_file.iter())
    {
        keys = keys
            .trust_file(&settings.jwt_issuer, path)
            .map_err(anyhow::Error::msg)?;
    }
    for pair in settings
        .jwt_trusted_issuers
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        // An address of keys starts at the first "=http"; a file path after the last "=".
        let split = match pair.find("=http") {
            Some(at) => Some((&pair[..at], &pair[at + 1..])),
            None => pair.rsplit_once('='),
        };
        let (issuer, target) = split.ok_or_else(|| {
            anyhow::anyhow!(
                "ORDERWATCH_JWT_TRUSTED_ISSUERS: {pair:?} is not ISSUER=PATH or ISSUER=URL"
            )
        })?;
        let target = target.trim();
        keys = if target.starts_with("https://") || target.starts_with("http://") {
            keys.trust_url(issuer.trim(), target, min_refresh)
        } else {
            keys.trust_file(issuer.trim(), std::path::Path::new(target))
        }
        .map_err(anyhow::Error::msg)?;
    }
    for pair in settings
        .jwt_claims
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (issuer, spec) = pair.split_once('=').ok_or_else(|| {
            anyhow::anyhow!("ORDERWATCH_JWT_CLAIMS: {pair:?} is not ISSUER=role:PATH,agency:PATH")
        })?;
        let map = crate::auth::claims::ClaimMap::parse(spec)
            .map_err(|e| anyhow::anyhow!("ORDERWATCH_JWT_CLAIMS for {issuer}: {e}"))?;
        keys = keys
            .map_claims(issuer.trim(), map)
            .map_err(anyhow::Error::msg)?;
    }
    if settings.production() && keys.fetches_insecurely() {
        anyhow::bail!("production fetches identity providers' keys over https:// only (ORDERWATCH_JWT_JWKS_URL, ORDERWATCH_JWT_TRUSTED_ISSUERS)");
    }
    Ok((keys.with_leeway(settings.jwt_leeway), source))
}

/// A built, bound, not yet running application.
pub struct Application {
    shutdown: tokio::sync::watch::Sender<bool>,
    sockets: tokio_util::task::TaskTracker,
    addr: SocketAddr,
    server: actix_web::dev::Server,
    services: Services,
    target: DbTarget,
    secret_source: SecretSource,
    /// Writes the audit checkpoints, the last one as the server stops.
    checkpointer: std::sync::Arc<crate::service::audit_guard::CheckpointWriter>,
}

impl Application {
    /// Builds everything and binds the listen address (port 0 picks a free port, as tests do). Longer than 80 lines:
    /// the order things start in matters (the listener before the alert pump, the audit guard before serving), and
    /// it reads best as one sequence.
    pub async fn build(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        settings.check().map_err(anyhow::Error::msg)?;
        let (db, target) = open_database(settings).await?;
        let (keys, secret_source) = jwt_keys(settings, &target, true)?;
        let checkpoints = crate::config::audit::checkpoint_path(settings, &target)?;
        let services = Services::with_feed_capacity(db, clock, settings.feed_capacity)
            .with_rules(settings.schedule_rules().map_err(anyhow::Error::msg)?)
            .with_delivery_retry(Duration::from_millis(settings.delivery_retry_ms.max(1)))
            .with_audit_gather(Duration::from_micros(settings.audit_gather_us.into()))
            .with_audit_owner(settings.audit_table_owner.clone())
            .with_court_made_spo(settings.court_made_spo)
            .with_endpoints(
                settings
                    .endpoints
                    .settings(settings.production())
                    .map_err(anyhow::Error::msg)?,
            )
            .map_err(anyhow::Error::msg)?;
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let schema = crate::graphql::build_schema_with(
            Some(services.clone()),
            &crate::graphql::Limits {
                depth: settings.max_depth,
                complexity: settings.max_complexity,
                introspection: !settings.production(),
            },
        );
        let state = app_state(settings, schema, keys, &services, shutdown_rx);
        let sockets = state.sockets.clone();
        state.keys.keep_fresh(shutdown.subscribe());
        crate::http::auth_failures::spawn_sweep(
            state.auth_failures.clone(),
            services.clone(),
            shutdown.subscribe(),
        );
        let poll = Duration::from_millis(settings.alert_poll_ms.max(50));
        // The listener first: once it listens, the pump can read where it starts with nothing falling between.
        if target.backend == crate::db::Backend::Postgres {
            services
                .feed
                .start_pg_listener(target.connect.clone(), poll)
                .await;
        }
        services.start_feed(poll).await;
        services.run_upkeep(shutdown.subscribe());
        let checkpointer = guard_audit_log(&services, checkpoints).await?;
        if settings.audit_checkpoint_secs > 0 {
            checkpointer.clone().spawn(
                Duration::from_secs(settings.audit_checkpoint_secs),
                shutdown.subscribe(),
            );
        }
        if settings.check_interval > 0 {
            crate::jobs::spawn_checks(
                services.clone(),
                Duration::from_secs(settings.check_interval),
                settings.check_max_alerts,
                shutdown.subscribe(),
            );
        }
        if settings.endpoints.deliver {
            services.deliver_to_endpoints(shutdown.subscribe());
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
            shutdown,
            sockets,
            addr,
            server,
            services,
            target,
            secret_source,
            checkpointer,
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

    /// A handle that shuts the server down gracefully (as SIGTERM does).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            signal: self.shutdown.clone(),
            sockets: self.sockets.clone(),
            server: self.server.handle(),
        }
    }

    /// Serves until Ctrl-C, SIGTERM or a [`ShutdownHandle`]: websockets close with 1001, requests finish (30 s).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.shutdown_handle();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown requested: finishing requests in flight");
            handle.shutdown().await;
        });
        let served = self.server.await;
        // Where the chain stands as the server stops: entries of its last minutes are anchored too.
        self.checkpointer.write_if_grown().await;
        // Before the process exits and its libraries' destructors run, no thread may be left opening a database
        // connection (`db::ConnectGate`).
        let stopped = self.services.stop_connecting(Duration::from_secs(10)).await;
        if !stopped {
            tracing::warn!(
                "a database connection was still being opened after 10 s; exiting anyway"
            );
        }
        served
    }
}

/// Stops the server gracefully.
#[derive(Clone)]
pub struct ShutdownHandle {
    signal: tokio::sync::watch::Sender<bool>,
    sockets: tokio_util::task::TaskTracker,
    server: actix_web::dev::ServerHandle,
}

impl ShutdownHandle {
    /// Websockets (tasks the HTTP server does not wait for) are told to close with 1001 and waited for: at most 15 s,
    /// as a close takes at most 11 s (a write not taken for 10 s, then 1 s for the client's close frame) and a
    /// stopping server opens none. Then the server stops, finishing requests in flight (up to 30 s).
    pub async fn shutdown(&self) {
        let _ = self.signal.send(true);
        self.sockets.close();
        let waited = tokio::time::timeout(Duration::from_secs(15), self.sockets.wait()).await;
        if waited.is_err() {
            tracing::warn!(
                open = self.sockets.len(),
                "websockets open 15 s into the stop"
            );
        }
        self.server.stop(true).await;
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// What every handler shares, from the settings.
fn app_state(
    settings: &Settings,
    schema: crate::graphql::OrderwatchSchema,
    keys: crate::auth::jwt::JwtKeys,
    services: &Services,
    shutdown_rx: tokio::sync::watch::Receiver<bool>,
) -> AppState {
    AppState {
        shutdown: shutdown_rx,
        sockets: tokio_util::task::TaskTracker::new(),
        document_limits: http::admission::DocumentLimits {
            max_aliases: settings.max_aliases,
            max_complexity: settings.max_complexity,
            input_types: std::sync::Arc::new(crate::graphql::input_type_names(&schema)),
            root_fields: std::sync::Arc::new(crate::graphql::root_field_names(&schema)),
        },
        schema,
        keys: std::sync::Arc::new(keys),
        services: services.clone(),
        max_body_bytes: settings.max_body_bytes,
        ws_init_timeout: Duration::from_millis(settings.ws_init_timeout_ms),
        ws_max_operations: settings.ws_max_operations as usize,
        ws_max_sockets: settings.ws_max_sockets as usize,
        max_nesting: settings.max_nesting,
        query_timeout: Duration::from_millis(settings.query_timeout_ms.max(1)),
        graphiql: settings.serve_graphiql(),
        production: settings.production(),
        auth_failures: Default::default(),
        metrics_token: settings
            .metrics_token
            .clone()
            .filter(|t| !t.is_empty())
            .map(crate::secret::Secret::new),
        documents: Default::default(),
        delivery: crate::graphql::delivery::delivery_schema(services.clone()),
        handed_over: Default::default(),
    }
}

/// The audit log must be protected and must still hold what its last checkpoint recorded before the server serves
/// anything; a start-up checkpoint then records where the chain stands. The writer of the checkpoints that follow.
async fn guard_audit_log(
    services: &Services,
    checkpoints: Option<std::path::PathBuf>,
) -> anyhow::Result<Arc<crate::service::audit_guard::CheckpointWriter>> {
    // A log whose append-only triggers were dropped or disabled may have been rewritten: serve nothing until
    // an operator has verified it and put them back.
    let unprotected = services.audit_unprotected().await?;
    anyhow::ensure!(
        unprotected.is_empty(),
        "the audit log's append-only triggers are missing or disabled, or its owner is wrong ({}): run `orderwatch audit verify`, then `orderwatch audit protect`",
        unprotected.join("; ")
    );
    // The log must still hold what the last checkpoint recorded, before a new one could endorse a cut log.
    let mut since = None;
    if let Some(file) = &checkpoints {
        match services.audit_matches_last_checkpoint(file).await? {
            Ok(last) => since = last.map(|cp| (cp.seq, cp.count)),
            Err(problem) => anyhow::bail!(
                "the audit log does not match its last checkpoint: {problem}; run `orderwatch audit verify`"
            ),
        }
    }
    // Where the chain stands as the server starts, while it grows, and as it stops.
    let first = services
        .audit_checkpoint_since(checkpoints.as_deref(), since)
        .await
        .context("writing the start-up audit checkpoint")?;
    let checkpointer = crate::service::audit_guard::CheckpointWriter::new(
        services.clone(),
        checkpoints.clone(),
        &first,
    );
    Ok(checkpointer)
}
