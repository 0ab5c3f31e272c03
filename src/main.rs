//! The `orderwatch` command: serve the API (default), migrate, print the schema, mint a token, run the checks, the
//! audit log's tools, load demo data.
//!
//! Past 400 lines: the subcommands' definitions and each one's handler, kept together so `--help` and what a
//! command does are read in one place; the work itself is in the library.

use anyhow::Context as _;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use orderwatch::auth::jwt::parse_ttl;
use orderwatch::auth::{valid_agency_code, Principal, Role};
use orderwatch::config::Settings;
use orderwatch::db::DbTarget;
use orderwatch::service::{Services, SystemClock};
use orderwatch::startup::{self, Application};
use std::sync::Arc;

/// jemalloc rather than glibc's malloc, which took about a fifth of the server's CPU on pages of orders
/// (BENCHMARKS.md, "Side by side"). mimalloc held about 150 MiB more with 10,000 idle sockets.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "orderwatch",
    version,
    about = "Shared record of protection orders in England and Wales"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walks the hash chain and checks it against the signed checkpoints; reports the first broken link and exits
    /// 2 if there is one, or if the append-only triggers are missing.
    Verify,
    /// Writes a signed checkpoint of where the chain stands now.
    Checkpoint,
    /// Puts the append-only triggers back (after `audit verify`).
    Protect,
    /// Prints the tag a search for this person is recorded under (`subject:...` in an entry's object ids).
    SubjectTag {
        /// The name searched for (any case, punctuation and spacing).
        #[arg(long)]
        name: Option<String>,
        /// The date of birth searched for, YYYY-MM-DD.
        #[arg(long)]
        date_of_birth: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand)]
enum StatsCommand {
    /// Prints the open data (counts per force and quarter, under disclosure control) as served at
    /// `/open-data/statistics.csv`; the read is recorded in the audit log.
    Export {
        /// The first day, YYYY-MM-DD.
        #[arg(long)]
        from: chrono::NaiveDate,
        /// The last day, YYYY-MM-DD (today at the latest).
        #[arg(long)]
        to: chrono::NaiveDate,
        /// csv or json.
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL): all of it, or what one role's introspection shows.
    Schema {
        /// COURT, POLICE, ADVOCATE, ADMIN, AUDITOR or ANALYST: only the operations and fields that role may use.
        #[arg(long)]
        role: Option<String>,
    },
    /// Mint a token signed with the configured secret, printed alone on stdout.
    Token {
        /// COURT, POLICE, ADVOCATE, ADMIN, AUDITOR or ANALYST.
        #[arg(long)]
        role: String,
        /// The agency code the token acts for (e.g. MET, WMC).
        #[arg(long)]
        agency: String,
        /// The subject: who the token is for (a user or system id).
        #[arg(long)]
        sub: String,
        /// Lifetime, e.g. 30m, 8h, 2d (at most 30d).
        #[arg(long, default_value = "8h")]
        ttl: String,
        /// Give the token the supervisory scope (`scope: supervisor`): a POLICE supervisor reads the force's own
        /// statistics.
        #[arg(long)]
        supervisor: bool,
    },
    /// Run the scheduled checks once and print the alerts raised. With --now, a dry run: it prints what a run at that
    /// moment would raise and writes nothing, unless --commit is given.
    Check {
        /// The moment to check at (RFC 3339); default now (a real run).
        #[arg(long)]
        now: Option<String>,
        /// With --now: write what the run raises. Refused for a moment in the future, which would raise alerts early
        /// and end orders early on a live database.
        #[arg(long, requires = "now")]
        commit: bool,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Per-force statistics.
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
    /// Load data for trying the API.
    Seed {
        /// Demo agencies and orders with fictional people.
        #[arg(long)]
        demo: bool,
        /// A synthetic set of this many orders over four years, for statistics (docs/statistics.md).
        #[arg(long, conflicts_with = "demo")]
        synthetic: Option<usize>,
        /// The seed the synthetic set is made from: the same seed makes the same set.
        #[arg(long, default_value_t = 1, requires = "synthetic")]
        seed: u64,
    },
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ORDERWATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_server=warn"));
    use std::io::IsTerminal;
    // ORDERWATCH_LOG_FORMAT=json: one JSON object a line, with the span fields (request.id, principal.role, ...).
    if std::env::var("ORDERWATCH_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
}

/// The settings a subcommand reads, and so lists in its `--help` (every setting is still accepted everywhere, as
/// the environment may hold any of them). `serve` reads them all.
fn settings_read_by(subcommand: &str) -> Option<Vec<&'static str>> {
    const DATABASE: &[&str] = &[
        "env",
        "database_url",
        "db_pool_size",
        "worker_reads",
        "pg_lock_timeout_ms",
        "pg_statement_timeout_ms",
        "pg_idle_in_transaction_timeout_ms",
        "audit_key",
        "audit_key_file",
    ];
    let with_database = |more: &[&'static str]| [DATABASE, more].concat();
    match subcommand {
        "migrate" | "seed" | "stats" => Some(DATABASE.to_vec()),
        "check" => Some(with_database(&[
            "check_max_alerts",
            "expiry_warning_days",
            "unserved_after_hours",
            "extra_bank_holidays",
        ])),
        "audit" => Some(with_database(&[
            "audit_checkpoint_file",
            "audit_table_owner",
        ])),
        "token" => Some(vec![
            "env",
            "database_url",
            "jwt_secret",
            "jwt_issuer",
            "jwt_audience",
            "jwt_public_key_file",
            "jwt_jwks_file",
            "jwt_trusted_issuers",
        ]),
        "schema" => Some(vec!["env"]),
        _ => None,
    }
}

/// The command line, with each subcommand's help listing only the settings it reads. Each subcommand is given a
/// hidden copy of the settings it does not read before clap propagates the global ones (which skips an argument a
/// subcommand already has), so every setting is still accepted after any subcommand.
fn command_line() -> clap::Command {
    let mut cmd = Cli::command();
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let subcommands: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subcommands {
        if let Some(read) = settings_read_by(&name) {
            cmd = cmd.mut_subcommand(name, |mut s| {
                for arg in &globals {
                    if !read.contains(&arg.get_id().as_str()) {
                        s = s.arg(arg.clone().hide(true));
                    }
                }
                s
            });
        }
    }
    cmd
}

#[tokio::main]
async fn main() {
    let cli = match Cli::from_arg_matches(&command_line().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    init_tracing();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    // Before anything touches the database.
    settings.check().map_err(anyhow::Error::msg)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&settings).await,
        Command::Migrate => {
            let (_, target) = startup::open_database(&settings).await?;
            println!("{} database is up to date", target.backend.name());
            Ok(())
        }
        Command::Schema { role: None } => {
            print!("{}", orderwatch::graphql::sdl());
            Ok(())
        }
        Command::Schema { role: Some(role) } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            print!(
                "{}",
                orderwatch::graphql::role_sdl::sdl_for_role(role)
                    .await
                    .map_err(anyhow::Error::msg)?
            );
            Ok(())
        }
        Command::Token {
            role,
            agency,
            sub,
            ttl,
            supervisor,
        } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            anyhow::ensure!(
                !supervisor || orderwatch::auth::policy::may_hold_supervisor_scope(role),
                "--supervisor is a scope of POLICE tokens only"
            );
            anyhow::ensure!(
                valid_agency_code(&agency),
                "--agency must be 2 to 32 upper-case letters, digits or -, starting with a letter"
            );
            anyhow::ensure!(
                !sub.trim().is_empty() && sub.len() <= 128,
                "--sub must be 1 to 128 characters"
            );
            let ttl = parse_ttl(&ttl).map_err(anyhow::Error::msg)?;
            let target = DbTarget::parse(&settings.database_url).map_err(anyhow::Error::msg)?;
            // Never creates a secret: a token minted with one the server does not use would be refused.
            let (keys, _) = startup::jwt_keys(&settings, &target, false)?;
            let token = keys
                .mint(
                    &Principal {
                        sub,
                        role,
                        agency,
                        supervisor,
                    },
                    chrono::Utc::now(),
                    ttl,
                )
                .map_err(anyhow::Error::msg)?;
            println!("{token}");
            Ok(())
        }
        Command::Check { now, commit } => check(&settings, now, commit).await,
        Command::Audit { command } => audit(&settings, command).await,
        Command::Stats { command } => stats(&settings, command).await,
        Command::Seed {
            demo,
            synthetic,
            seed,
        } => seed_data(&settings, demo, synthetic, seed).await,
    }
}

/// `orderwatch check`: a run now, or a dry run (or, with `--commit`, a run) at a moment given.
async fn check(settings: &Settings, now: Option<String>, commit: bool) -> anyhow::Result<()> {
    let given = now.is_some();
    let now = match now {
        Some(s) => chrono::DateTime::parse_from_rfc3339(&s)
            .map_err(|_| anyhow::anyhow!("--now must be RFC 3339, e.g. 2026-12-01T09:00:00Z"))?
            .with_timezone(&chrono::Utc),
        None => chrono::Utc::now(),
    };
    let dry_run = given && !commit;
    anyhow::ensure!(
        !commit || now <= chrono::Utc::now(),
        "refusing to commit a check run at a future moment: it would raise alerts early and record orders as ended before they end. Leave out --commit for a dry run"
    );
    let rules = settings.schedule_rules().map_err(anyhow::Error::msg)?;
    let (db, _) = startup::open_database(settings).await?;
    let clock = Arc::new(orderwatch::service::FixedClock::new(now));
    let services = Services::new(db, clock).with_rules(rules);
    let opts = orderwatch::service::checks::CheckOptions {
        max_alerts: settings.check_max_alerts,
        dry_run,
        ..orderwatch::service::checks::CheckOptions::at(now)
    };
    let report = services
        .run_checks(opts)
        .await
        .context("running the checks")?;
    for r in &report.raised {
        let late = if r.fire_at + orderwatch::domain::alert::LATE_AFTER < now {
            format!("  late by {}", human_duration(now - r.fire_at))
        } else {
            String::new()
        };
        let due = r.due_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        println!(
            "{:<30} {:<24} due {due}{late}",
            r.kind.as_str(),
            r.order_reference
        );
    }
    println!(
        "{} at {}: {} alerts {}, {} scheduled alerts no longer due{}",
        if dry_run { "dry run" } else { "checked" },
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        report.raised.len(),
        if dry_run { "would be raised" } else { "raised" },
        report.cancelled,
        if report.capped {
            "; stopped at ORDERWATCH_CHECK_MAX_ALERTS, run again for the rest"
        } else {
            ""
        }
    );
    if dry_run {
        println!("nothing was written; add --commit to run the checks at that moment");
    }
    Ok(())
}

/// `orderwatch audit ...`: verify, checkpoint, protect, subject-tag.
async fn audit(settings: &Settings, command: AuditCommand) -> anyhow::Result<()> {
    let (db, target) = startup::open_database(settings).await?;
    let checkpoints = orderwatch::config::audit::checkpoint_path(settings, &target)?;
    let services = Services::new(db, Arc::new(SystemClock))
        .with_audit_owner(settings.audit_table_owner.clone())
        .with_court_made_spo(settings.court_made_spo);
    match command {
        AuditCommand::Verify => {
            let verified = services
                .verify_audit_with(checkpoints.as_deref())
                .await
                .context("reading the audit log")?;
            let unprotected = services
                .audit_unprotected()
                .await
                .context("reading the audit log's triggers")?;
            match verified {
                orderwatch::db::audit::Verified::Intact { events } => {
                    println!(
                        "audit log intact: {events} events, every link verified{}",
                        match &checkpoints {
                            Some(p) =>
                                format!(", checked against the checkpoints in {}", p.display()),
                            None => ", no checkpoint file".into(),
                        }
                    );
                }
                orderwatch::db::audit::Verified::Broken { seq, id, problem } if id.is_empty() => {
                    println!("audit log BROKEN at event {seq}: {problem}");
                    std::process::exit(2);
                }
                orderwatch::db::audit::Verified::Broken { seq, id, problem } => {
                    println!("audit log BROKEN at event {seq} (id {id}): {problem}");
                    std::process::exit(2);
                }
            }
            if !unprotected.is_empty() {
                println!("audit log UNPROTECTED: {} (run `orderwatch audit protect` for missing triggers)", unprotected.join("; "));
                std::process::exit(2);
            }
            Ok(())
        }
        AuditCommand::Checkpoint => {
            let cp = services
                .audit_checkpoint(checkpoints.as_deref())
                .await
                .context("writing the checkpoint")?;
            println!(
                "audit checkpoint: event {} of {}, hash {}{}",
                cp.seq,
                cp.count,
                cp.hash,
                match &checkpoints {
                    Some(p) => format!(", appended to {}", p.display()),
                    None =>
                        ", written to the log only (no ORDERWATCH_AUDIT_CHECKPOINT_FILE)".into(),
                }
            );
            Ok(())
        }
        AuditCommand::SubjectTag {
            name,
            date_of_birth,
        } => {
            let key = name.as_deref().map(orderwatch::domain::name_key);
            println!("{}", services.subject_tag(key.as_deref(), date_of_birth));
            Ok(())
        }
        AuditCommand::Protect => {
            services
                .protect_audit()
                .await
                .context("restoring the audit log's triggers")?;
            println!("audit log protected: append-only triggers in place");
            Ok(())
        }
    }
}

/// "3d 4h", "2h 5m", "45s": how late an alert was, for people.
/// `orderwatch seed`: the demo data, or a synthetic set.
async fn seed_data(
    settings: &Settings,
    demo: bool,
    synthetic: Option<usize>,
    seed: u64,
) -> anyhow::Result<()> {
    if let Some(orders) = synthetic {
        let (db, _) = startup::open_database(settings).await?;
        let started = std::time::Instant::now();
        let report = Services::new(db, Arc::new(SystemClock))
            .seed_synthetic(orders, seed, |written| {
                tracing::info!(
                    orders.written = written,
                    orders.total = orders,
                    "synthetic orders written"
                );
            })
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
        println!(
            "synthetic set from seed {seed}: {} orders, {} applications, {} breaches in {:.1} s",
            report.orders,
            report.applications,
            report.breaches,
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    anyhow::ensure!(
        demo,
        "say which data to load: `orderwatch seed --demo` or `orderwatch seed --synthetic N`"
    );
    let (db, _) = startup::open_database(settings).await?;
    let report = Services::new(db, Arc::new(SystemClock))
        .seed_demo()
        .await
        .context("seeding demo data")?;
    println!(
        "demo data: {} agencies and {} orders created, {} already present",
        report.agencies_created, report.orders_created, report.already_present
    );
    println!(
        "agencies: police MET, GMP; courts WMC, MMC; Crown Court SCC; advocacy ADV-LDN, ADV-MCR"
    );
    Ok(())
}

/// `orderwatch stats ...`.
async fn stats(settings: &Settings, command: StatsCommand) -> anyhow::Result<()> {
    let StatsCommand::Export { from, to, format } = command;
    let (db, _) = startup::open_database(settings).await?;
    let services = Services::new(db, Arc::new(SystemClock));
    let period = orderwatch::domain::statistics::Period { from, to };
    let published = services
        .open_statistics(period, "cli-stats-export")
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    use orderwatch::domain::statistics::open_data;
    if format == "json" {
        println!("{}", open_data::to_json(&published));
    } else {
        print!("{}", open_data::to_csv(&published));
    }
    Ok(())
}

fn human_duration(d: chrono::Duration) -> String {
    let (days, hours, minutes) = (d.num_days(), d.num_hours() % 24, d.num_minutes() % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{}s", d.num_seconds()),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    let url = format!("http://{}", app.addr());
    let db = app.database().describe();
    let run = if std::env::var_os("CARGO").is_some() {
        "cargo run --release --"
    } else {
        "orderwatch"
    };
    if settings.production() {
        println!("orderwatch serving {url}/graphql on {db} (production); migrations applied");
        println!("{}", app.secret_source());
    } else {
        println!(
            "orderwatch serving {url}/graphql (GraphiQL at {url}/graphiql) on {db}; migrations applied"
        );
        println!("{}", app.secret_source());
        println!("mint a token:   {run} token --role POLICE --agency MET --sub officer-1");
        println!("demo data:      {run} seed --demo");
    }
    println!("console:        {url}/ (sign in with a token)");
    println!("health:         {url}/healthz  {url}/readyz");
    app.run_until_stopped()
        .await
        .context("server stopped with an error")
}
