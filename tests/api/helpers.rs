//! Test harness: spawns the real server on port 0 over a fresh database and talks to it over HTTP.
//!
//! The backend comes from `TEST_DATABASE_URL`: unset, each test gets a new SQLite file in a temp directory; a
//! `postgres://` URL, each test gets a new database on that server, dropped when the test ends.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use orderwatch::auth::jwt::JwtKeys;
use orderwatch::auth::{Principal, Role};
use orderwatch::config::Settings;
use orderwatch::db::DbConnection;
use orderwatch::service::{FixedClock, Services};
use orderwatch::startup::Application;
use serde_json::{json, Value};
use std::sync::Arc;

pub const SECRET: &str = "test-secret-of-at-least-thirty-two-bytes!";
/// The audit chain's key in tests (`ORDERWATCH_AUDIT_KEY`).
pub const AUDIT_KEY: &str = "test-1=test-audit-key-of-at-least-thirty-two-bytes";

enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            if let Ok(mut conn) = PgConnection::establish(admin_url) {
                let _ =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&mut conn);
            }
        }
    }
}

/// Where each test server's clock starts: today in London, twelve hours before the day ends (midday, or an hour
/// either side on the two days the clocks change). Tests step the clock by minutes or hours around "now" and expect
/// the London date to stay put; started at the wall-clock time, a suite run just after midnight saw a breach ten
/// minutes before "now" fall on the day before an order made "today" (BREACH_BEFORE_ORDER in 19 tests).
pub fn test_start() -> DateTime<Utc> {
    let today = orderwatch::domain::calendar::london_date(Utc::now());
    orderwatch::domain::calendar::end_of_day(today) - Duration::hours(12)
}

/// True when the suite runs against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL")
        .map(|u| u.starts_with("postgres"))
        .unwrap_or(false)
}

/// A fresh, empty database URL for one test.
fn fresh_database() -> (String, TestDb) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("ow_test_{}", uuid::Uuid::new_v4().simple());
            orderwatch::db::before_libpq();
            let mut conn =
                PgConnection::establish(&admin_url).expect("connect to TEST_DATABASE_URL");
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut conn)
                .expect("create test database");
            let (base, _) = admin_url
                .rsplit_once('/')
                .expect("TEST_DATABASE_URL ends with /DATABASE");
            (
                format!("{base}/{name}"),
                TestDb::Postgres { admin_url, name },
            )
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("orderwatch.db").display());
            (url, TestDb::Sqlite(dir))
        }
    }
}

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub clock: Arc<FixedClock>,
    pub services: Services,
    pub database_url: String,
    keys: JwtKeys,
    settings: Settings,
    /// Shuts this server down gracefully, as SIGTERM would.
    pub shutdown: orderwatch::startup::ShutdownHandle,
    _db: Option<Arc<TestDb>>,
    /// A pool of the test's own on the server's database (`db()`), opened when first asked for.
    db: tokio::sync::OnceCell<orderwatch::db::Database>,
    /// Files beside the database that the server writes (audit checkpoints), removed with the test.
    _files: Option<Arc<tempfile::TempDir>>,
}

/// A GraphQL response: the HTTP status, `data`, and `errors`.
#[derive(Debug)]
pub struct Gql {
    pub status: u16,
    pub data: Value,
    pub errors: Vec<Value>,
}

impl Gql {
    /// The `extensions.code` of every error, in order.
    pub fn codes(&self) -> Vec<String> {
        self.errors
            .iter()
            .map(|e| {
                e["extensions"]["code"]
                    .as_str()
                    .unwrap_or("<none>")
                    .to_string()
            })
            .collect()
    }
    /// Asserts there were no errors and returns `data`.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert!(
            self.errors.is_empty(),
            "unexpected errors: {:#?}",
            self.errors
        );
        assert_eq!(self.status, 200);
        &self.data
    }
    /// Asserts exactly one error with this code and returns it.
    #[track_caller]
    pub fn err(&self, code: &str) -> &Value {
        assert_eq!(
            self.codes(),
            vec![code.to_string()],
            "errors: {:#?}",
            self.errors
        );
        &self.errors[0]
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns the app with settings adjusted by `tune`.
    pub async fn spawn_with(tune: impl FnOnce(&mut Settings)) -> TestApp {
        let (database_url, db) = fresh_database();
        let mut settings = Settings::for_database(&database_url);
        settings.listen = "127.0.0.1:0".into();
        settings.jwt_secret = Some(SECRET.into());
        settings.audit_key = Some(AUDIT_KEY.into());
        let files = Arc::new(tempfile::tempdir().expect("temp dir"));
        settings.audit_checkpoint_file = Some(files.path().join("audit-checkpoints"));
        settings.db_pool_size = 4;
        settings.workers = Some(1);
        // Long enough that only a wake-up (local commit or PostgreSQL NOTIFY) delivers alerts in a test.
        settings.alert_poll_ms = 600_000;
        // Tests run the checks themselves, at the moments they choose.
        settings.check_interval = 0;
        tune(&mut settings);
        let mut app = Self::start(settings, Some(Arc::new(db))).await;
        app._files = Some(files);
        app
    }

    /// A second server (replica) on the same database, with its own clock.
    pub async fn replica(&self) -> TestApp {
        self.replica_with(|_| {}).await
    }

    /// A replica with its settings adjusted by `tune`.
    pub async fn replica_with(&self, tune: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings.clone();
        tune(&mut settings);
        Self::start(settings, self._db.clone()).await
    }

    async fn start(settings: Settings, db: Option<Arc<TestDb>>) -> TestApp {
        let clock = Arc::new(FixedClock::new(test_start()));
        let app = Application::build(&settings, clock.clone())
            .await
            .expect("build app");
        let url = format!("http://{}", app.addr());
        let services = app.services().clone();
        let shutdown = app.shutdown_handle();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            shutdown,
            url,
            client: reqwest::Client::new(),
            clock,
            services,
            database_url: settings.database_url.clone(),
            keys: JwtKeys::hs256(SECRET.as_bytes(), "orderwatch", "orderwatch").unwrap(),
            settings,
            _db: db,
            db: Default::default(),
            _files: None,
        }
    }

    /// The `orderwatch` command for this server's database, keys and checkpoint file, as an operator runs it.
    pub fn cli(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_orderwatch"));
        c.env("DATABASE_URL", &self.database_url)
            .env("ORDERWATCH_JWT_SECRET", SECRET)
            .env("ORDERWATCH_AUDIT_KEY", AUDIT_KEY)
            .env("ORDERWATCH_LOG", "warn");
        if let Some(file) = &self.settings.audit_checkpoint_file {
            c.env("ORDERWATCH_AUDIT_CHECKPOINT_FILE", file);
        }
        c
    }

    /// The server's time: today in London at about midday (see [`test_start`]); tests move it with `clock`.
    pub fn now(&self) -> DateTime<Utc> {
        use orderwatch::service::Clock;
        self.clock.now()
    }

    /// Sets the server's clock to the system clock's time, for a test that also drives the server binary (which
    /// runs on the system clock): both then agree on "now".
    pub fn on_system_clock(&self) {
        self.clock.set(Utc::now());
    }

    pub fn today(&self) -> chrono::NaiveDate {
        orderwatch::domain::calendar::london_date(self.now())
    }

    /// `before` earlier than the server's "now", but not before the London day "now" falls on began: on the system
    /// clock ([`TestApp::on_system_clock`]) a breach "ten minutes ago", reported just after midnight, would fall on
    /// the day before an order made "today".
    pub fn earlier_today(&self, before: Duration) -> DateTime<Utc> {
        let day_began = orderwatch::domain::calendar::end_of_day(self.today() - Duration::days(1));
        (self.now() - before).max(day_began)
    }

    /// A token for a role and agency that expires at `exp`.
    pub fn token_until(&self, role: Role, agency: &str, exp: DateTime<Utc>) -> String {
        let p = Principal {
            sub: format!("{}-user", agency.to_lowercase()),
            role,
            agency: agency.into(),
            supervisor: false,
        };
        self.keys
            .mint(
                &p,
                Utc::now() - Duration::seconds(5),
                exp - (Utc::now() - Duration::seconds(5)),
            )
            .unwrap()
    }

    /// A pool of its own on the server's database, opened as the server opens it (same settings and audit keys), for
    /// what a test must do below the API.
    pub async fn db(&self) -> orderwatch::db::Database {
        self.db
            .get_or_init(|| async {
                orderwatch::startup::open_database(&self.settings)
                    .await
                    .expect("open the database")
                    .0
            })
            .await
            .clone()
    }

    /// Opens a websocket to `/graphql` speaking graphql-transport-ws.
    pub async fn ws(&self) -> Ws {
        Ws::connect(&self.url).await
    }

    /// A valid token for a role and agency.
    pub fn token(&self, role: Role, agency: &str) -> String {
        self.token_scoped(role, agency, false)
    }

    /// A valid token for a role and agency, with the supervisory scope or without.
    pub fn token_scoped(&self, role: Role, agency: &str, supervisor: bool) -> String {
        let p = Principal {
            sub: format!("{}-user", agency.to_lowercase()),
            role,
            agency: agency.into(),
            supervisor,
        };
        self.keys.mint(&p, Utc::now(), Duration::hours(1)).unwrap()
    }

    pub async fn post_raw(&self, token: Option<&str>, body: Value) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.url))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    /// Sends a GraphQL document with variables as `token`'s holder.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Gql {
        let res = self
            .post_raw(
                Some(token),
                json!({ "query": query, "variables": variables }),
            )
            .await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.expect("JSON body");
        Gql {
            status,
            data: body.get("data").cloned().unwrap_or(Value::Null),
            errors: body
                .get("errors")
                .and_then(|e| e.as_array())
                .cloned()
                .unwrap_or_default(),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.url, path))
            .send()
            .await
            .expect("request")
    }

    /// Registers the agencies most tests use: forces MET and GMP, courts WMC and MMC, advocacy ADV-A and ADV-B.
    pub async fn with_agencies(self) -> TestApp {
        let admin = self.token(Role::Admin, "OPS");
        for (code, kind) in [
            ("MET", "POLICE_FORCE"),
            ("GMP", "POLICE_FORCE"),
            ("WMC", "COURT"),
            ("MMC", "COURT"),
            ("CCL", "CROWN_COURT"),
            ("ADV-A", "ADVOCACY_SERVICE"),
            ("ADV-B", "ADVOCACY_SERVICE"),
        ] {
            self.gql(
                &admin,
                "mutation($i: CreateAgencyInput!) { createAgency(input: $i) { code } }",
                json!({ "i": { "code": code, "name": format!("{code} (test)"), "kind": kind } }),
            )
            .await
            .ok();
        }
        self
    }

    /// Grants an order as `court` (or a police force for notices) and returns the response.
    pub async fn grant(&self, token: &str, input: Value) -> Gql {
        self.gql(token, GRANT, json!({ "i": input })).await
    }

    /// Row counts of every table and the state of every order: equal before and after a rejected request.
    pub async fn snapshot(&self) -> String {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        #[derive(QueryableByName)]
        struct State {
            #[diesel(sql_type = diesel::sql_types::Text)]
            reference: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            status: String,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            version: i64,
            #[diesel(sql_type = diesel::sql_types::Text)]
            service_status: String,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
            expires_on: Option<chrono::NaiveDate>,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
            aware_at: Option<chrono::NaiveDateTime>,
            #[diesel(sql_type = diesel::sql_types::Timestamp)]
            updated_at: chrono::NaiveDateTime,
        }
        self.db()
            .await
            .run(|conn: &mut DbConnection| {
                let mut out = String::new();
                for t in [
                    "agencies", "orders", "subject_names", "protected_persons", "conditions", "order_versions", "breaches",
                    "breach_conditions", "breach_outcomes", "order_shares", "alerts", "alert_acks", "notifications",
                    "hearings", "deadlines", "scheduled_alerts", "applications",
                ] {
                    let c: Count = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {t}")).get_result(conn)?;
                    out.push_str(&format!("{t}={} ", c.n));
                }
                let states: Vec<State> = diesel::sql_query(
                    "SELECT reference, status, version, service_status, expires_on, aware_at, updated_at FROM orders ORDER BY reference",
                )
                .load(conn)?;
                for s in states {
                    out.push_str(&format!(
                        "\n{} {} v{} {} {:?} aware {:?} updated {}",
                        s.reference, s.status, s.version, s.service_status, s.expires_on, s.aware_at, s.updated_at
                    ));
                }
                Ok(out)
            })
            .await
            .expect("snapshot")
    }
}

/// Every field of an order, as tests read it back.
pub const ORDER_FIELDS: &str = "reference type status serviceStatus servedAt serviceMethod servedByAgency madeOn expiresOn \
    expiresAt version statute breachIsOffence createdAt updatedAt replacesReference replacedByReference \
    subject { names dateOfBirth } protectedPersons { id name dateOfBirth } \
    conditions { id kind text expiresOn inForce } applicantAgency { code name kind } court { code kind } \
    versions { version event status expiresOn recordedAt recordedByAgency note conditions { id text } }";

pub const GRANT: &str = concat!(
    "mutation($i: GrantOrderInput!) { grantOrder(input: $i) { ",
    "reference type status serviceStatus madeOn expiresOn version replacesReference ",
    "subject { names dateOfBirth } protectedPersons { id name } conditions { id kind text expiresOn } ",
    "applicantAgency { code } court { code } versions { version event status } } }"
);

/// A child process (the server binary) that is killed and reaped when dropped, so a test that fails part-way
/// leaves no server running.
pub struct ChildGuard(pub std::process::Child);

impl std::ops::Deref for ChildGuard {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for ChildGuard {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Already ended (killed by the test, or exited) is fine.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The value of an unlabelled counter or gauge in a `/metrics` text.
pub fn read_counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} in /metrics"))
        .trim()
        .parse()
        .unwrap()
}

/// Runs SQL on the test database directly, as someone with access to the database (not the API) could.
pub fn raw_sql(app: &TestApp, sql: &[&str]) -> Result<(), String> {
    let target = orderwatch::db::DbTarget::parse(&app.database_url).unwrap();
    match target.backend {
        orderwatch::db::Backend::Sqlite => {
            let mut c = diesel::SqliteConnection::establish(&target.connect).unwrap();
            // Waits for the server's writer (an audit batch, a WAL checkpoint) as the server's own connections do.
            diesel::sql_query("PRAGMA busy_timeout = 5000")
                .execute(&mut c)
                .map_err(|e| e.to_string())?;
            sql.iter().try_for_each(|s| {
                diesel::sql_query(*s)
                    .execute(&mut c)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        }
        orderwatch::db::Backend::Postgres => {
            let mut c = diesel::PgConnection::establish(&target.connect).unwrap();
            sql.iter().try_for_each(|s| {
                diesel::sql_query(*s)
                    .execute(&mut c)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        }
    }
}

/// The audit log's first 100 entries matching `filter` (an `AuditFilter`), as the DPO reads them.
pub const AUDIT_EVENTS: &str = "query($f: AuditFilter) { auditEvents(filter: $f, first: 100) { edges { node { id requestId operation action objectType objectIds fields recipient outcome reason actor { sub agency role } } } } }";

pub async fn audit_events(app: &TestApp, filter: Value) -> Vec<Value> {
    let r = app
        .gql(
            &app.token(Role::Auditor, "DPO"),
            AUDIT_EVENTS,
            json!({ "f": filter }),
        )
        .await;
    r.ok()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Makes the audit store refuse entries of `operation` (`CONSULT`, `DISCLOSE`, ...) and nothing else, as a full disk
/// or a lost server would refuse them all; [`accept_audit_entries`] undoes it.
pub fn refuse_audit_entries(app: &TestApp, operation: &str) {
    let fault = if on_postgres() {
        vec![
            format!("CREATE FUNCTION audit_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.operation = '{operation}' THEN RAISE EXCEPTION 'audit store unavailable'; END IF; RETURN NEW; END $$"),
            "CREATE TRIGGER audit_fault BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_fault()".to_string(),
        ]
    } else {
        vec![format!("CREATE TRIGGER audit_fault BEFORE INSERT ON audit_events WHEN NEW.operation = '{operation}' BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END")]
    };
    let fault: Vec<&str> = fault.iter().map(String::as_str).collect();
    raw_sql(app, &fault).unwrap();
}

/// Undoes [`refuse_audit_entries`].
pub fn accept_audit_entries(app: &TestApp) {
    let heal = if on_postgres() {
        "DROP TRIGGER audit_fault ON audit_events"
    } else {
        "DROP TRIGGER audit_fault"
    };
    raw_sql(app, &[heal]).unwrap();
}

/// A valid SPO made today for two years, applied for by MET.
pub fn spo_input(app: &TestApp, reference: &str) -> Value {
    let today = app.today();
    let end = orderwatch::domain::Term::Years(2).last_day(today);
    json!({
        "reference": reference,
        "type": "SPO",
        "applicantAgency": "MET",
        "subject": { "names": ["Sam Subject", "Sammy S"], "dateOfBirth": "1980-05-05" },
        "protectedPersons": [{ "name": "Pat Protected", "dateOfBirth": "1990-01-01", "contact": "07700 900123" }],
        "madeOn": today.to_string(),
        "expiresOn": end.to_string(),
        "conditions": [
            { "kind": "PROHIBITION", "text": "Must not contact the protected person" },
            { "kind": "REQUIREMENT", "text": "Must attend a perpetrator programme", "expiresOn": today.to_string() }
        ]
    })
}

/// A graphql-transport-ws client over a real websocket.
pub struct Ws {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

/// How long a test waits for a message before failing (never reached when things work).
const WS_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Ws {
    /// Opens a websocket to `{base_url}/graphql` (a test server or the real binary) speaking graphql-transport-ws.
    pub async fn connect(base_url: &str) -> Ws {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("{}/graphql", base_url.replace("http://", "ws://"))
            .into_client_request()
            .unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (stream, response) = tokio_tungstenite::connect_async(req)
            .await
            .expect("websocket connect");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        Ws { stream }
    }

    pub async fn send(&mut self, v: Value) {
        use futures_util::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::Text(
                v.to_string().into(),
            ))
            .await
            .expect("ws send");
    }

    /// The websocket itself, for tests of its framing.
    pub fn stream_mut(
        &mut self,
    ) -> &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    > {
        &mut self.stream
    }

    pub async fn send_raw(&mut self, text: &str) {
        use futures_util::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::Text(
                text.to_string().into(),
            ))
            .await
            .expect("ws send");
    }

    /// The next message: `Ok(json)` for a text message, `Err((code, reason))` when the server closes.
    pub async fn recv(&mut self) -> Result<Value, (u16, String)> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let msg = tokio::time::timeout(WS_WAIT, self.stream.next())
                .await
                .expect("no websocket message in time");
            match msg {
                Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(&t).unwrap()),
                Some(Ok(Message::Close(frame))) => {
                    return Err(frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new())))
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err((1006, "connection dropped".into())),
            }
        }
    }

    /// Sends `connection_init` with the token and expects `connection_ack`.
    pub async fn init(&mut self, token: &str) {
        self.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })).await;
        assert_eq!(self.recv().await.unwrap()["type"], "connection_ack");
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })).await;
    }

    /// Subscribes to the caller's alerts after `cursor`.
    pub async fn alerts_after(&mut self, id: &str, cursor: &Value) {
        self.subscribe(id, ALERT_SUBSCRIPTION, json!({ "after": cursor }))
            .await;
    }

    /// The next `next` payload's alert, for subscription `id`.
    pub async fn next_alert(&mut self, id: &str) -> Value {
        let msg = self.recv().await.expect("an alert, not a close");
        assert_eq!(msg["type"], "next", "{msg}");
        assert_eq!(msg["id"], id);
        assert!(msg["payload"].get("errors").is_none(), "{msg}");
        msg["payload"]["data"]["alerts"].clone()
    }

    /// Waits for the server to close the socket and returns the close code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            if let Err(close) = self.recv().await {
                return close;
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

pub const ALERT_SUBSCRIPTION: &str = "subscription($after: String) { alerts(after: $after) { id cursor kind severity orderReference breachId late createdAt dueAt order { reference } } }";

/// Copies the order `template` `copies` times in SQL (with its subject, persons, conditions, versions, deadlines and
/// scheduled alerts), as a record far larger than a test could grant through the API.
pub fn copy_order(app: &TestApp, template: &str, copies: usize) {
    let (series, pad) = if on_postgres() {
        (
            format!("SELECT i FROM generate_series(1, {copies}) AS g(i)"),
            "lpad(s.i::text, 6, '0')",
        )
    } else {
        (
            format!("WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {copies}) SELECT i FROM g"),
            "substr('00000' || s.i, -6, 6)",
        )
    };
    let id = format!("'copy-' || {pad}");
    let from = |table: &str| {
        format!("FROM ({series}) AS s JOIN orders o ON o.reference = '{template}' JOIN {table} t ON t.order_id = o.id")
    };
    let statements = [
        format!("INSERT INTO orders (id, reference, order_type, status, made_on, expires_on, applicant_agency, court_agency, subject_date_of_birth, replaces_order_id, version, service_status, served_at, service_method, served_by_agency, served_by, created_at, updated_at) \
                 SELECT {id}, 'COPY/' || s.i, o.order_type, o.status, o.made_on, o.expires_on, o.applicant_agency, o.court_agency, o.subject_date_of_birth, NULL, o.version, o.service_status, o.served_at, o.service_method, o.served_by_agency, o.served_by, o.created_at, o.updated_at \
                 FROM ({series}) AS s JOIN orders o ON o.reference = '{template}'"),
        format!("INSERT INTO subject_names (id, order_id, position, name, name_key) SELECT t.id || '-' || s.i, {id}, t.position, t.name, t.name_key {}", from("subject_names")),
        format!("INSERT INTO protected_persons (id, order_id, position, name, date_of_birth, contact) SELECT t.id || '-' || s.i, {id}, t.position, t.name, t.date_of_birth, t.contact {}", from("protected_persons")),
        format!("INSERT INTO conditions (id, order_id, position, kind, text, expires_on, added_in_version, removed_in_version) SELECT t.id || '-' || s.i, {id}, t.position, t.kind, t.text, t.expires_on, t.added_in_version, t.removed_in_version {}", from("conditions")),
        format!("INSERT INTO order_versions (order_id, version, event, status, expires_on, recorded_at, recorded_by, recorded_by_agency, note) SELECT {id}, t.version, t.event, t.status, t.expires_on, t.recorded_at, t.recorded_by, t.recorded_by_agency, t.note {}", from("order_versions")),
        format!("INSERT INTO deadlines (id, order_id, kind, occasion, due_at, status, met_at, rule, statute, updated_at) SELECT t.id || '-' || s.i, {id}, t.kind, t.occasion, t.due_at, t.status, t.met_at, t.rule, t.statute, t.updated_at {}", from("deadlines")),
        format!("INSERT INTO scheduled_alerts (id, order_id, kind, occasion, due_at, fire_at, state, done_at) SELECT t.id || '-' || s.i, {id}, t.kind, t.occasion, t.due_at, t.fire_at, t.state, t.done_at {}", from("scheduled_alerts")),
    ];
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    raw_sql(app, &statements).unwrap();
}

/// The notification deadlines in a list of deadlines (`kind dueAt status`), as sorted (kind, dueAt, status) rows.
pub fn notification_rows(deadlines: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = deadlines
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"].as_str().unwrap().starts_with("NOTIFICATION"))
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap().to_string();
            (s("kind"), s("dueAt"), s("status"))
        })
        .collect();
    out.sort();
    out
}

/// An officer's audited read of an order (a CONSULT entry), with this id, for tests that append to the log directly.
pub fn read_entry(id: &str) -> orderwatch::domain::audit::AuditEntry {
    orderwatch::domain::audit::AuditEntry {
        id: id.into(),
        at: Utc::now(),
        request_id: format!("request-{id}"),
        actor_sub: "officer".into(),
        actor_agency: "MET".into(),
        actor_role: "POLICE".into(),
        operation: orderwatch::domain::audit::AuditOperation::Consult,
        action: "order".into(),
        object_type: "order".into(),
        object_ids: vec!["o".into()],
        fields: vec!["status".into()],
        recipient: None,
        outcome: "OK".into(),
        reason: None,
        correlation_id: None,
    }
}
