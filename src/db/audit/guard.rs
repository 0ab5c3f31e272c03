//! The append-only protection of the audit table: which triggers are missing, who owns it, putting them back.

use crate::db::DbConnection;
use crate::error::AppResult;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

/// The triggers that keep the log append-only, by backend.
const SQLITE_GUARDS: &[&str] = &["audit_events_no_update", "audit_events_no_delete"];
const PG_GUARDS: &[&str] = &["audit_events_no_change", "audit_events_no_truncate"];

/// The append-only triggers missing or disabled (none when the log is protected).
pub fn missing_protection(conn: &mut DbConnection) -> AppResult<Vec<&'static str>> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let (wanted, sql) = match conn {
        DbConnection::Sqlite(_) => (
            SQLITE_GUARDS,
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'",
        ),
        DbConnection::Pg(_) => (
            PG_GUARDS,
            "SELECT tgname AS name FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal AND tgenabled <> 'D'",
        ),
    };
    let present: Vec<String> = crate::db::with_backend!(conn, |c| diesel::sql_query(sql)
        .load::<Name>(c))?
    .into_iter()
    .map(|n| n.name)
    .collect();
    Ok(wanted
        .iter()
        .copied()
        .filter(|w| !present.iter().any(|p| p == w))
        .collect())
}

/// On PostgreSQL with an owner configured (`ORDERWATCH_AUDIT_TABLE_OWNER`): what is wrong with who owns the audit
/// table. It must be owned by that role, and the server must not run as it (the owner can drop the triggers).
pub fn owner_problem(conn: &mut DbConnection, owner: &str) -> AppResult<Option<String>> {
    #[derive(QueryableByName)]
    struct Owners {
        #[diesel(sql_type = Nullable<Text>)]
        owner: Option<String>,
        #[diesel(sql_type = Text)]
        me: String,
    }
    let DbConnection::Pg(c) = conn else {
        return Ok(None);
    };
    let found: Owners = diesel::sql_query(
        "SELECT (SELECT tableowner::text FROM pg_tables WHERE tablename = 'audit_events' AND schemaname = current_schema()) AS owner, current_user::text AS me",
    )
    .get_result(c)?;
    Ok(if found.owner.as_deref() != Some(owner) {
        Some(format!(
            "audit_events is not owned by {owner} (ORDERWATCH_AUDIT_TABLE_OWNER)"
        ))
    } else if found.me == owner {
        Some(format!(
            "the server runs as {owner}, the audit table's owner, who can drop its triggers"
        ))
    } else {
        None
    })
}

/// Puts the append-only triggers back (`orderwatch audit protect`), as the migration made them.
pub fn restore_protection(conn: &mut DbConnection) -> AppResult<()> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConnection::Sqlite(c) => c.batch_execute(
            "CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events \
             BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END; \
             CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events \
             BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;",
        )?,
        DbConnection::Pg(c) => c.batch_execute(
            "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'audit_events is append-only'; END; $$; \
             CREATE OR REPLACE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events \
             FOR EACH ROW EXECUTE FUNCTION audit_events_append_only(); \
             CREATE OR REPLACE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events \
             FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only(); \
             ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change; \
             ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_truncate;",
        )?,
    }
    Ok(())
}
