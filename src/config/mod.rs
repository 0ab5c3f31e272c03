//! Settings: built-in defaults, overridden by environment variables, overridden by command-line flags (clap does
//! the layering). Passed into `startup`, never read from a global. Secrets are never printed (see the Debug impl).
//!
//! Past 400 lines on purpose: `Settings` is the one list of every setting, each documented where it is
//! declared, with its defaults and the checks made before anything touches the database.

use crate::db::DbTarget;
use std::path::PathBuf;

pub mod audit;
pub mod endpoints;
mod secrets;

pub(crate) use secrets::create_dev_file;
pub use secrets::{resolve_jwt_secret, SecretSource};

#[derive(clap::Args, Clone)]
pub struct Settings {
    /// Database: sqlite://PATH (default, created if missing) or postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://orderwatch.db",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,

    /// Address and port to serve on.
    #[arg(
        long,
        env = "ORDERWATCH_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: String,

    /// HS256 secret for tokens (at least 32 bytes). Unset with SQLite: generated once and kept in
    /// DATABASE_PATH.jwt-secret. Prefer the environment variable to the flag (flags show in process lists).
    #[arg(
        long,
        env = "ORDERWATCH_JWT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,

    /// Expected `iss` claim of tokens, and the issuer of minted ones.
    #[arg(
        long,
        env = "ORDERWATCH_JWT_ISSUER",
        default_value = "orderwatch",
        global = true
    )]
    pub jwt_issuer: String,

    /// Expected `aud` claim of tokens, and the audience of minted ones.
    #[arg(
        long,
        env = "ORDERWATCH_JWT_AUDIENCE",
        default_value = "orderwatch",
        global = true
    )]
    pub jwt_audience: String,

    /// PEM public key (RSA, P-256 or Ed25519: RS256, ES256 or EdDSA) that tokens of ORDERWATCH_JWT_ISSUER may be
    /// signed with.
    #[arg(long, env = "ORDERWATCH_JWT_PUBLIC_KEY_FILE", global = true)]
    pub jwt_public_key_file: Option<PathBuf>,

    /// JWKS file with the keys of ORDERWATCH_JWT_ISSUER; re-read when it changes; the token's `kid` picks the key.
    #[arg(long, env = "ORDERWATCH_JWT_JWKS_FILE", global = true)]
    pub jwt_jwks_file: Option<PathBuf>,

    /// Other trusted issuers, each with its own key file (PEM, or JWKS if it ends in .json) or the https:// address
    /// of its JWKS or discovery document: `ISSUER=PATH,ISSUER=URL`, e.g. `https://idp.courts=/etc/ow/courts.json`.
    #[arg(
        long,
        env = "ORDERWATCH_JWT_TRUSTED_ISSUERS",
        default_value = "",
        global = true
    )]
    pub jwt_trusted_issuers: String,

    /// Where ORDERWATCH_JWT_ISSUER publishes its keys: a JWKS address, or its OpenID Connect discovery document
    /// (`https://idp.example/.well-known/openid-configuration`). Fetched at start-up and as their cache headers say.
    #[arg(long, env = "ORDERWATCH_JWT_JWKS_URL", global = true)]
    pub jwt_jwks_url: Option<String>,

    /// Where issuers' tokens carry the role and the agency, when not in `role` and `agency` claims, per issuer:
    /// `ISSUER=role:PATH,agency:PATH[,rolePrefix:TEXT][,agencyPrefix:TEXT];ISSUER=...` (docs/operations.md).
    #[arg(long, env = "ORDERWATCH_JWT_CLAIMS", default_value = "", global = true)]
    pub jwt_claims: String,

    /// Fewest seconds between two fetches of an issuer's keys made because a token named a key id not held.
    #[arg(
        long,
        env = "ORDERWATCH_JWT_JWKS_MIN_REFRESH_SECS",
        default_value_t = 60,
        global = true
    )]
    pub jwt_jwks_min_refresh_secs: u64,

    /// Seconds of clock difference allowed on a token's `exp` and `nbf`.
    #[arg(
        long,
        env = "ORDERWATCH_JWT_LEEWAY",
        default_value_t = 60,
        global = true
    )]
    pub jwt_leeway: u64,

    /// Most database connections held open by this process.
    #[arg(
        long,
        env = "ORDERWATCH_DB_POOL_SIZE",
        default_value_t = 10,
        global = true
    )]
    pub db_pool_size: u32,

    /// Whether an order looked up by reference, and on PostgreSQL a page of orders, are read on the HTTP worker's own
    /// connection (`true` or `false`; on PostgreSQL pipelined with the worker's other reads), rather than the pool.
    #[arg(
        long,
        env = "ORDERWATCH_WORKER_READS",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub worker_reads: bool,

    /// Largest GraphQL request body accepted, in bytes; larger ones get 413.
    #[arg(
        long,
        env = "ORDERWATCH_MAX_BODY_BYTES",
        default_value_t = 1_048_576,
        global = true
    )]
    pub max_body_bytes: usize,

    /// How long a websocket may stay open before its `connection_init` (then it is closed with 4408), in ms.
    #[arg(
        long,
        env = "ORDERWATCH_WS_INIT_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub ws_init_timeout_ms: u64,

    /// Most operations (subscriptions) one websocket may have running at once; one more is refused with an `error`
    /// message (`TOO_MANY_OPERATIONS`) and the socket stays open.
    #[arg(
        long,
        env = "ORDERWATCH_WS_MAX_OPERATIONS",
        default_value_t = 1_000,
        value_parser = clap::value_parser!(u32).range(1..=100_000),
        global = true
    )]
    pub ws_max_operations: u32,

    /// Most websockets the server holds open at once; one more is refused before its handshake (503,
    /// `TOO_MANY_SOCKETS`).
    #[arg(
        long,
        env = "ORDERWATCH_WS_MAX_SOCKETS",
        default_value_t = 50_000,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000),
        global = true
    )]
    pub ws_max_sockets: u32,

    /// Safety-net interval at which each server reads new alerts even without a wake-up, in ms.
    #[arg(
        long,
        env = "ORDERWATCH_ALERT_POLL_MS",
        default_value_t = 2_000,
        global = true
    )]
    pub alert_poll_ms: u64,

    /// How many batches of alerts a live subscriber may fall behind before it is resumed from the table.
    #[arg(
        long,
        env = "ORDERWATCH_FEED_CAPACITY",
        default_value_t = 64,
        global = true
    )]
    pub feed_capacity: usize,

    /// Seconds between scheduled check runs on this server; 0 disables them (run `orderwatch check` instead).
    #[arg(
        long,
        env = "ORDERWATCH_CHECK_INTERVAL",
        default_value_t = 60,
        global = true
    )]
    pub check_interval: u64,

    /// Most alerts one check run raises; the rest wait for the next run, most overdue first.
    #[arg(
        long,
        env = "ORDERWATCH_CHECK_MAX_ALERTS",
        default_value_t = 10_000,
        global = true
    )]
    pub check_max_alerts: usize,

    /// Days before an order's (or condition's) end at which ORDER_EXPIRING is raised, comma-separated.
    #[arg(
        long,
        env = "ORDERWATCH_EXPIRY_WARNING_DAYS",
        default_value = "30,7",
        global = true
    )]
    pub expiry_warning_days: String,

    /// Hours an order may stay unserved after it is recorded before UNSERVED_ORDER is raised.
    #[arg(
        long,
        env = "ORDERWATCH_UNSERVED_AFTER_HOURS",
        default_value_t = 24,
        global = true
    )]
    pub unserved_after_hours: u32,

    /// Bank holidays to add to the shipped calendar (YYYY-MM-DD, comma-separated), e.g. a one-off holiday.
    #[arg(
        long,
        env = "ORDERWATCH_EXTRA_BANK_HOLIDAYS",
        default_value = "",
        global = true
    )]
    pub extra_bank_holidays: String,

    /// Whether courts may record an SPO made of their own motion on conviction or acquittal, with no police
    /// application (`courtMotion` on `grantOrder`): the Crime and Policing Bill's provision. Turn it on once the
    /// provision is in force; until then such a grant is refused (`COURT_MADE_SPO_NOT_ENABLED`).
    #[arg(
        long,
        env = "ORDERWATCH_COURT_MADE_SPO",
        default_value_t = false,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub court_made_spo: bool,

    /// Whether to serve GraphiQL at `/graphiql` (`true` or `false`); unset, it is served in development only.
    #[arg(long, env = "ORDERWATCH_GRAPHIQL", global = true)]
    pub graphiql: Option<bool>,

    /// `production` turns off introspection and, unless `ORDERWATCH_GRAPHIQL=true`, the GraphiQL page; anything else
    /// is development.
    #[arg(
        long,
        env = "ORDERWATCH_ENV",
        default_value = "development",
        global = true
    )]
    pub env: String,

    /// Deepest selection nesting a document may have.
    #[arg(
        long,
        env = "ORDERWATCH_MAX_DEPTH",
        default_value_t = 16,
        global = true
    )]
    pub max_depth: usize,

    /// Most fields (counted through fragments) a document may select.
    #[arg(
        long,
        env = "ORDERWATCH_MAX_COMPLEXITY",
        default_value_t = 5_000,
        global = true
    )]
    pub max_complexity: usize,

    /// PostgreSQL: longest a session waits for a lock before the request fails with UNAVAILABLE, in ms (0 = no bound).
    #[arg(
        long,
        env = "ORDERWATCH_PG_LOCK_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub pg_lock_timeout_ms: u64,

    /// PostgreSQL: longest one statement may run, in ms (0 = no bound).
    #[arg(
        long,
        env = "ORDERWATCH_PG_STATEMENT_TIMEOUT_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub pg_statement_timeout_ms: u64,

    /// PostgreSQL: longest a session may sit idle inside a transaction before the server ends it and its locks go,
    /// in ms (0 = no bound). Bounds what a frozen replica costs the others.
    #[arg(
        long,
        env = "ORDERWATCH_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub pg_idle_in_transaction_timeout_ms: u64,

    /// The audit chain's key, as `ID=SECRET` (secret at least 32 bytes). Never logged.
    #[arg(
        long,
        env = "ORDERWATCH_AUDIT_KEY",
        global = true,
        hide_env_values = true
    )]
    pub audit_key: Option<String>,

    /// A file of audit keys, one `ID=SECRET` a line: the last writes new entries, all verify (rotation: add a
    /// line). Default on SQLite: beside the database file (created on first use).
    #[arg(long, env = "ORDERWATCH_AUDIT_KEY_FILE", global = true)]
    pub audit_key_file: Option<PathBuf>,

    /// Where signed audit checkpoints are appended (one JSON line each), outside the database. Default on SQLite:
    /// beside the database file; on PostgreSQL there is none unless set (required in production).
    #[arg(long, env = "ORDERWATCH_AUDIT_CHECKPOINT_FILE", global = true)]
    pub audit_checkpoint_file: Option<PathBuf>,

    /// PostgreSQL: the role that must own the audit table (the server must run as another role, so it cannot drop
    /// the append-only triggers). Checked at start-up and by /readyz when set.
    #[arg(long, env = "ORDERWATCH_AUDIT_TABLE_OWNER", global = true)]
    pub audit_table_owner: Option<String>,

    /// Seconds between audit checkpoints while the log grows (0 = none but at start-up).
    #[arg(
        long,
        env = "ORDERWATCH_AUDIT_CHECKPOINT_SECS",
        default_value_t = 60,
        global = true
    )]
    pub audit_checkpoint_secs: u64,

    /// Microseconds a batch of audit records waits for more reads to join it when several arrive together (0 to
    /// 10,000; 0 writes what is queued at once). Every read waits for its record to commit, so a wait saves the
    /// database commits at the cost of every caller's time: worth it only where the database is the bottleneck.
    #[arg(
        long,
        env = "ORDERWATCH_AUDIT_GATHER_US",
        default_value_t = 0,
        value_parser = clap::value_parser!(u32).range(0..=10_000),
        global = true
    )]
    pub audit_gather_us: u32,

    /// Bearer token that `/metrics` asks for; without it `/metrics` is open in development and closed in
    /// production. Never logged.
    #[arg(
        long,
        env = "ORDERWATCH_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,

    /// How long a live alert delivery retries a failed step (the database, the audit store) with the alert held
    /// back, in ms; after it the subscription ends with DELIVERY_INTERRUPTED and the websocket closes with 1013.
    #[arg(
        long,
        env = "ORDERWATCH_DELIVERY_RETRY_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub delivery_retry_ms: u64,

    /// Deepest nesting of brackets in a document's text or of values in its variables (1 to 256); deeper
    /// documents are refused with DOCUMENT_TOO_DEEP before they are parsed.
    #[arg(
        long,
        env = "ORDERWATCH_MAX_NESTING",
        default_value_t = 64,
        global = true
    )]
    pub max_nesting: usize,

    /// Most aliased fields a document may have.
    #[arg(
        long,
        env = "ORDERWATCH_MAX_ALIASES",
        default_value_t = 30,
        global = true
    )]
    pub max_aliases: usize,

    /// Longest a query may run before it is abandoned with QUERY_TIMEOUT, in ms (mutations always finish).
    #[arg(
        long,
        env = "ORDERWATCH_QUERY_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub query_timeout_ms: u64,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "ORDERWATCH_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// Delivery to agencies' webhooks and duty inboxes (`config/endpoints.rs`).
    #[command(flatten)]
    pub endpoints: endpoints::EndpointArgs,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field(
                "database",
                &DbTarget::parse(&self.database_url)
                    .map(|t| t.backend.name())
                    .unwrap_or("invalid"),
            )
            .field("listen", &self.listen)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<set>"))
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("jwt_public_key_file", &self.jwt_public_key_file)
            .field("jwt_jwks_file", &self.jwt_jwks_file)
            .field("jwt_jwks_url", &self.jwt_jwks_url)
            .field("jwt_claims", &self.jwt_claims)
            .field("jwt_jwks_min_refresh_secs", &self.jwt_jwks_min_refresh_secs)
            .field("jwt_trusted_issuers", &self.jwt_trusted_issuers)
            .field("jwt_leeway", &self.jwt_leeway)
            .field("db_pool_size", &self.db_pool_size)
            .field("worker_reads", &self.worker_reads)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("ws_init_timeout_ms", &self.ws_init_timeout_ms)
            .field("ws_max_operations", &self.ws_max_operations)
            .field("ws_max_sockets", &self.ws_max_sockets)
            .field("alert_poll_ms", &self.alert_poll_ms)
            .field("feed_capacity", &self.feed_capacity)
            .field("env", &self.env)
            .field("max_depth", &self.max_depth)
            .field("max_complexity", &self.max_complexity)
            .field("pg_lock_timeout_ms", &self.pg_lock_timeout_ms)
            .field("pg_statement_timeout_ms", &self.pg_statement_timeout_ms)
            .field(
                "pg_idle_in_transaction_timeout_ms",
                &self.pg_idle_in_transaction_timeout_ms,
            )
            .field("audit_key", &self.audit_key.as_ref().map(|_| "<set>"))
            .field("audit_key_file", &self.audit_key_file)
            .field("audit_checkpoint_file", &self.audit_checkpoint_file)
            .field("audit_checkpoint_secs", &self.audit_checkpoint_secs)
            .field("audit_gather_us", &self.audit_gather_us)
            .field("audit_table_owner", &self.audit_table_owner)
            .field("graphiql", &self.graphiql)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<set>"),
            )
            .field("delivery_retry_ms", &self.delivery_retry_ms)
            .field("max_nesting", &self.max_nesting)
            .field("max_aliases", &self.max_aliases)
            .field("query_timeout_ms", &self.query_timeout_ms)
            .field("check_interval", &self.check_interval)
            .field("check_max_alerts", &self.check_max_alerts)
            .field("expiry_warning_days", &self.expiry_warning_days)
            .field("unserved_after_hours", &self.unserved_after_hours)
            .field("workers", &self.workers)
            .field("endpoints", &self.endpoints)
            .finish()
    }
}

impl Settings {
    /// Defaults for a database URL, as if no environment or flags were given.
    pub fn for_database(database_url: &str) -> Settings {
        Settings {
            database_url: database_url.to_string(),
            listen: "127.0.0.1:8080".into(),
            jwt_secret: None,
            jwt_issuer: "orderwatch".into(),
            jwt_audience: "orderwatch".into(),
            jwt_public_key_file: None,
            jwt_jwks_file: None,
            jwt_jwks_url: None,
            jwt_claims: String::new(),
            jwt_jwks_min_refresh_secs: 60,
            jwt_trusted_issuers: String::new(),
            jwt_leeway: 60,
            db_pool_size: 10,
            worker_reads: true,
            max_body_bytes: 1_048_576,
            ws_init_timeout_ms: 10_000,
            ws_max_operations: 1_000,
            ws_max_sockets: 50_000,
            alert_poll_ms: 2_000,
            feed_capacity: 64,
            env: "development".into(),
            max_depth: 16,
            max_complexity: 5_000,
            pg_lock_timeout_ms: 5_000,
            pg_statement_timeout_ms: 30_000,
            pg_idle_in_transaction_timeout_ms: 10_000,
            audit_key: None,
            audit_key_file: None,
            audit_checkpoint_file: None,
            audit_checkpoint_secs: 60,
            audit_gather_us: 0,
            audit_table_owner: None,
            metrics_token: None,
            court_made_spo: false,
            graphiql: None,
            delivery_retry_ms: 30_000,
            max_nesting: 64,
            max_aliases: 30,
            query_timeout_ms: 10_000,
            check_interval: 60,
            check_max_alerts: 10_000,
            expiry_warning_days: "30,7".into(),
            unserved_after_hours: 24,
            extra_bank_holidays: String::new(),
            workers: None,
            endpoints: Default::default(),
        }
    }
}

impl Settings {
    /// Checks what can be checked without touching the database: the error names the setting at fault.
    pub fn check(&self) -> Result<(), String> {
        if !["development", "production"]
            .iter()
            .any(|e| self.env.eq_ignore_ascii_case(e))
        {
            return Err(format!(
                "ORDERWATCH_ENV must be development or production, not {:?}",
                self.env
            ));
        }
        if self.production() {
            if self.jwt_secret.is_none() && !self.has_public_keys() {
                return Err("production needs ORDERWATCH_JWT_SECRET or the identity providers' public keys (ORDERWATCH_JWT_PUBLIC_KEY_FILE, ORDERWATCH_JWT_JWKS_FILE, ORDERWATCH_JWT_JWKS_URL or ORDERWATCH_JWT_TRUSTED_ISSUERS); the development secret beside the database is not used".into());
            }
            if self.audit_key.is_none() && self.audit_key_file.is_none() {
                return Err("production needs ORDERWATCH_AUDIT_KEY_FILE (lines of ID=SECRET, kept outside the database)".into());
            }
        }
        if !(1..=MAX_NESTING_CEILING).contains(&self.max_nesting) {
            return Err(format!(
                "ORDERWATCH_MAX_NESTING must be 1 to {MAX_NESTING_CEILING}"
            ));
        }
        self.endpoints.settings(self.production())?;
        self.schedule_rules().map(|_| ())
    }

    /// Whether any public key or JWKS is configured.
    pub fn has_public_keys(&self) -> bool {
        self.jwt_public_key_file.is_some()
            || self.jwt_jwks_file.is_some()
            || self.jwt_jwks_url.is_some()
            || !self.jwt_trusted_issuers.trim().is_empty()
    }

    /// Whether to serve the GraphiQL page: as `ORDERWATCH_GRAPHIQL` says, else in development only.
    pub fn serve_graphiql(&self) -> bool {
        self.graphiql.unwrap_or(!self.production())
    }

    /// Whether this is a production deployment (`ORDERWATCH_ENV=production`).
    pub fn production(&self) -> bool {
        self.env.eq_ignore_ascii_case("production")
    }

    /// The schedule's rules from these settings; the error names the setting at fault.
    pub fn schedule_rules(&self) -> Result<crate::domain::schedule::ScheduleRules, String> {
        let mut days = vec![];
        for part in self
            .expiry_warning_days
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let d: u32 = part
                .parse()
                .ok()
                .filter(|d| (1..=365).contains(d))
                .ok_or_else(|| format!("ORDERWATCH_EXPIRY_WARNING_DAYS: {part:?} is not a number of days from 1 to 365"))?;
            days.push(d);
        }
        days.sort_unstable_by(|a, b| b.cmp(a));
        days.dedup();
        let mut extra = vec![];
        for part in self
            .extra_bank_holidays
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            extra.push(
                chrono::NaiveDate::parse_from_str(part, "%Y-%m-%d").map_err(|_| {
                    format!("ORDERWATCH_EXTRA_BANK_HOLIDAYS: {part:?} is not a YYYY-MM-DD date")
                })?,
            );
        }
        if !(1..=24 * 90).contains(&self.unserved_after_hours) {
            return Err("ORDERWATCH_UNSERVED_AFTER_HOURS must be 1 to 2160".into());
        }
        Ok(crate::domain::schedule::ScheduleRules {
            expiry_warning_days: days,
            unserved_after: chrono::Duration::hours(i64::from(self.unserved_after_hours)),
            excluded: crate::domain::calendar::ExcludedDays::england_and_wales().with_extra(extra),
            ..Default::default()
        })
    }
}

pub use crate::secret::Secret;

/// Highest `ORDERWATCH_MAX_NESTING` accepted: well under the roughly 1,500 levels at which the GraphQL parser
/// overflows a worker thread's stack in a release build (less in a debug build).
pub const MAX_NESTING_CEILING: usize = 256;
