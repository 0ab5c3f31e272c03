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
    /// Counts a refusal from `source` at `now`.
    pub fn refused(&self, source: IpAddr, now: Instant) -> Decision {
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
    }
}
