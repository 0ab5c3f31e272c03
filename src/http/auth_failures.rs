//! Refused authentication, recorded without letting an anonymous client flood the audit log (six clients once wrote
//! about 1,500 entries a second and slowed police reads fourfold). Per source address, the first refusal of a window
//! is recorded in full; the rest of the window are counted and recorded as one entry with their count
//! (`AUTH_FAILURE` with outcome `UNAUTHENTICATED_REPEATED`) once the window has closed. Every refusal is still
//! answered 401: a source is not throttled, since behind a load balancer every client shares its address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one source's refusals are coalesced.
pub const WINDOW: Duration = Duration::from_secs(10);
/// Sources tracked at most; past it, closed windows are swept first.
const MAX_SOURCES: usize = 10_000;

#[derive(Debug)]
struct Window {
    started: Instant,
    /// Refusals in this window after the first (not yet recorded).
    repeats: u32,
}

/// What to do about one refusal.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// Record this refusal in full.
    pub record: bool,
    /// Counts of closed windows to record as one entry each.
    pub repeated: Vec<u32>,
}

#[derive(Default)]
pub struct AuthFailures(Mutex<HashMap<IpAddr, Window>>);

impl AuthFailures {
    /// Counts a refusal from `source` at `now`. IPv6 sources count by their /64 network, which one client holds
    /// whole.
    pub fn refused(&self, source: IpAddr, now: Instant) -> Decision {
        let source = match source {
            IpAddr::V6(v6) => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(std::net::Ipv6Addr::from(segments))
            }
            v4 => v4,
        };
        let mut windows = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut decision = Decision::default();
        if windows.len() >= MAX_SOURCES {
            windows.retain(|_, w| {
                let open = now.duration_since(w.started) < WINDOW;
                if !open && w.repeats > 0 {
                    decision.repeated.push(w.repeats);
                }
                open
            });
        }
        match windows.get_mut(&source) {
            Some(w) if now.duration_since(w.started) < WINDOW => w.repeats += 1,
            Some(w) => {
                if w.repeats > 0 {
                    decision.repeated.push(w.repeats);
                }
                *w = Window {
                    started: now,
                    repeats: 0,
                };
                decision.record = true;
            }
            None => {
                // A full table that could not be swept (every window still open): the refusal is counted nowhere
                // and not recorded, rather than letting the table grow.
                if windows.len() < MAX_SOURCES {
                    windows.insert(
                        source,
                        Window {
                            started: now,
                            repeats: 0,
                        },
                    );
                    decision.record = true;
                }
            }
        }
        decision
    }
}

/// The entry recording `count` refusals of one source coalesced in a window.
pub fn repeated_entry(
    request_id: &str,
    at: chrono::DateTime<chrono::Utc>,
    count: u32,
) -> crate::domain::audit::AuditEntry {
    let mut e = crate::service::audit::auth_failure(request_id, at, "graphql", "repeated refusals");
    e.outcome = "UNAUTHENTICATED_REPEATED".into();
    e.fields = vec![format!("count:{count}")];
    e
}

/// Records the counts of closed windows every [`WINDOW`] until `stop` turns true.
pub fn spawn_sweep(
    failures: std::sync::Arc<AuthFailures>,
    services: crate::service::Services,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + WINDOW, WINDOW);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            let now = services.now();
            let entries: Vec<_> = failures
                .sweep(Instant::now())
                .into_iter()
                .map(|count| repeated_entry("sweep", now, count))
                .collect();
            if !entries.is_empty() {
                if let Err(e) = services.audit(entries).await {
                    tracing::error!(
                        error.code = e.code(),
                        "repeated authentication failures could not be recorded"
                    );
                }
            }
        }
    });
}

impl AuthFailures {
    /// The counts of windows closed by `now`, taken out of the table: recorded by a periodic sweep, so a source
    /// that stops has its count recorded too.
    pub fn sweep(&self, now: Instant) -> Vec<u32> {
        let mut windows = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut counts = vec![];
        windows.retain(|_, w| {
            let open = now.duration_since(w.started) < WINDOW;
            if !open && w.repeats > 0 {
                counts.push(w.repeats);
            }
            open
        });
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_a_window_then_one_with_the_count() {
        let f = AuthFailures::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let t0 = Instant::now();
        assert_eq!(
            f.refused(ip, t0),
            Decision {
                record: true,
                ..Default::default()
            }
        );
        for i in 1..=500 {
            let d = f.refused(ip, t0 + Duration::from_millis(i));
            assert_eq!(d, Decision::default(), "{i}");
        }
        assert!(
            f.refused(other, t0 + Duration::from_secs(1)).record,
            "another source has its own window"
        );
        let next = f.refused(ip, t0 + WINDOW);
        assert_eq!(
            next,
            Decision {
                record: true,
                repeated: vec![500]
            }
        );
        // A source that stops has its count recorded by the sweep once its window closes.
        f.refused(other, t0 + WINDOW);
        assert_eq!(f.sweep(t0 + WINDOW + WINDOW), vec![1]);
        // One IPv6 client's /64 is one source.
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(f.refused(a, t0).record);
        assert!(!f.refused(b, t0).record);
    }
}
