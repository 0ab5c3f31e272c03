//! The scheduled checks loop: runs the checks now and then every interval; a failed run is logged and retried at
//! the next tick, never stopping the loop.

use crate::service::checks::CheckOptions;
use crate::service::Services;
use std::time::{Duration, Instant};

/// Starts the checks loop on the current runtime. The first run is at once, so a server coming back from an outage
/// raises (late) whatever fell due meanwhile. No run starts once `shutdown` turns true (a run under way finishes
/// its batch; an unfinished run is completed by the next one, on this server or another).
pub fn spawn_checks(
    services: Services,
    interval: Duration,
    max_alerts: usize,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while !*shutdown.borrow() {
            let started = Instant::now();
            let opts = CheckOptions {
                max_alerts,
                ..CheckOptions::at(services.now())
            };
            let result = services.run_checks(opts).await;
            let m = crate::metrics::global();
            m.check_runs
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            m.check_last_micros.store(
                started.elapsed().as_micros() as u64,
                std::sync::atomic::Ordering::Relaxed,
            );
            if result.is_err() {
                m.check_failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            match result {
                Ok(report) if report.raised.is_empty() && report.cancelled == 0 => {
                    tracing::debug!(
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "check run: nothing due"
                    )
                }
                Ok(report) => tracing::info!(
                    check.raised = report.raised.len(),
                    check.late = report
                        .raised
                        .iter()
                        .filter(|r| r.fire_at < services.now() - crate::domain::alert::LATE_AFTER)
                        .count(),
                    check.cancelled = report.cancelled,
                    check.capped = report.capped,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "check run"
                ),
                Err(e) => tracing::error!(
                    error.code = e.code(),
                    "check run failed; retrying at the next interval"
                ),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                // Shutdown, or no one left to send it: the application is gone.
                changed = shutdown.changed() => if changed.is_err() { break },
            }
        }
    })
}
