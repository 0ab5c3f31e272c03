//! SQLite: keep prepared statements prepared.
//!
//! SQLite (3.50, bundled) re-plans a statement whose plan may depend on the value bound to a parameter, and to
//! do so it marks the statement expired whenever that parameter is bound again, changed or not. diesel binds
//! every `LIMIT` (`.first()`, `.limit(n)`) as a parameter, which is such a case, so every execution of those
//! statements re-compiled them from their SQL text: the order-row read and the audit chain's last-hash read of
//! every lookup, and every page. Measured with callgrind (BENCHMARKS.md, "SQLite re-compiled statements on every
//! run"), that was about a sixth of the server's instructions per lookup.
//!
//! The query planner stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`) turns that off: a statement keeps the
//! plan it was prepared with, whatever is bound. orderwatch's statements do not need bound values to plan well
//! (their filters are equalities on indexed columns, and their limits are small), so it is turned on for every
//! SQLite connection the process opens, through SQLite's auto-extension hook (diesel does not expose its
//! connection handle).

use libsqlite3_sys as ffi;
use std::os::raw::{c_char, c_int};

/// Turns the guarantee on for every SQLite connection opened in this process from now on. Idempotent.
pub fn keep_plans_stable() {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: `enable_qpsg` has the signature SQLite calls entry points with, and stays valid for the
        // life of the process (a plain function).
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(enable_qpsg)) };
        if rc != ffi::SQLITE_OK {
            tracing::warn!(
                sqlite.rc = rc,
                "could not register the SQLite plan-stability hook; statements with bound limits are re-prepared on each run"
            );
        }
    });
}

/// SQLite's entry point for each new connection: turns on the query planner stability guarantee.
unsafe extern "C" fn enable_qpsg(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: SQLite passes the connection being opened; this option takes an int (1: on) and an optional int
    // pointer for the resulting setting (null: not wanted).
    unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            std::ptr::null_mut::<c_int>(),
        );
    }
    ffi::SQLITE_OK
}
