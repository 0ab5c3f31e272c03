//! Live delivery never skips an alert. Each step of delivering one alert to a subscriber (its consent check, the
//! replay read, the disclosure record) is retried, with the alert held back and later ones behind it, until it
//! succeeds or the retry window (`ORDERWATCH_DELIVERY_RETRY_MS`) has passed; then the subscription ends with
//! `DELIVERY_INTERRUPTED`, and the client resumes from the last cursor it received.

use crate::error::{AppError, AppResult};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// The first pause between tries; it doubles up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// How long a delivery step is retried, and how many tries have failed so far (for `/metrics`).
#[derive(Debug)]
pub struct DeliveryRetry {
    pub window: Duration,
    failures: AtomicU64,
}

impl Default for DeliveryRetry {
    fn default() -> Self {
        DeliveryRetry::new(DEFAULT_WINDOW)
    }
}

/// The default of `ORDERWATCH_DELIVERY_RETRY_MS`: long enough to ride out a database restart.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30);

impl DeliveryRetry {
    pub fn new(window: Duration) -> Self {
        DeliveryRetry {
            window,
            failures: AtomicU64::new(0),
        }
    }

    /// Tries of a delivery step that failed since start-up.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Runs `attempt` until it succeeds or the window has passed since the first try, pausing between tries.
    /// What it finally fails with is [`AppError::DeliveryInterrupted`], whatever the last error was (that is
    /// logged).
    pub async fn run<T, F, Fut>(&self, step: &'static str, attempt: F) -> AppResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = AppResult<T>>,
    {
        retried(self.window, &self.failures, step, attempt).await
    }
}

async fn retried<T, F, Fut>(
    window: Duration,
    failures: &AtomicU64,
    step: &'static str,
    mut attempt: F,
) -> AppResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AppResult<T>>,
{
    let started = Instant::now();
    let mut pause = FIRST_PAUSE;
    for tries in 1u32.. {
        let e = match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        failures.fetch_add(1, Ordering::Relaxed);
        // Only a dependency that may come back is waited for; anything else will fail the same way every time.
        let transient = matches!(e, AppError::Unavailable(_));
        if !transient || started.elapsed() + pause > window {
            tracing::error!(
                delivery.step = step,
                delivery.tries = tries,
                error.code = e.code(),
                "alert delivery interrupted; the subscriber must resume from its last cursor"
            );
            return Err(AppError::DeliveryInterrupted(anyhow::anyhow!(
                "{step} failed {tries} times: {e}"
            )));
        }
        tracing::warn!(
            delivery.step = step,
            delivery.tries = tries,
            error.code = e.code(),
            "alert delivery step failed; the alert is held and retried"
        );
        Box::pin(tokio::time::sleep(pause)).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
    unreachable!("the loop returns")
}

impl super::Services {
    /// Records the delivery of `alert` to the caller's agency as a disclosure (DPA 2018 s62), before it is sent;
    /// retried within the window, then `DELIVERY_INTERRUPTED`.
    pub async fn record_delivery(
        &self,
        who: &crate::auth::Caller,
        alert: &crate::domain::alert::AlertRecord,
    ) -> AppResult<()> {
        self.delivery
            .run("disclosure record", || {
                let mut e = super::audit::entry(
                    who,
                    self.now(),
                    crate::domain::audit::AuditOperation::Disclose,
                    "alerts",
                    "alert",
                    vec![alert.id.clone(), alert.order_id.clone()],
                    &["kind", "orderReference", "createdAt"],
                );
                e.recipient = Some(who.agency.clone());
                self.audit(vec![e])
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[tokio::test(start_paused = true)]
    async fn a_step_that_recovers_within_the_window_succeeds() {
        let calls = Cell::new(0);
        let retry = DeliveryRetry::new(Duration::from_secs(30));
        let r = retry
            .run("test", || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move {
                    if n < 4 {
                        Err(AppError::Unavailable(anyhow::anyhow!("down")))
                    } else {
                        Ok(n)
                    }
                }
            })
            .await;
        assert_eq!(r.unwrap(), 4);
        assert_eq!(retry.failures(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_that_fails_for_good_interrupts_the_delivery_at_once() {
        let retry = DeliveryRetry::new(Duration::from_secs(30));
        let started = tokio::time::Instant::now();
        let r: AppResult<()> = retry
            .run("test", || async {
                Err(AppError::internal(anyhow::anyhow!("a bug")))
            })
            .await;
        assert_eq!(r.unwrap_err().code(), "DELIVERY_INTERRUPTED");
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(retry.failures(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_that_keeps_failing_interrupts_the_delivery_after_the_window() {
        let started = tokio::time::Instant::now();
        let retry = DeliveryRetry::new(Duration::from_secs(10));
        let r: AppResult<()> = retry
            .run("test", || async {
                Err(AppError::Unavailable(anyhow::anyhow!("down")))
            })
            .await;
        assert_eq!(r.unwrap_err().code(), "DELIVERY_INTERRUPTED");
        let waited = started.elapsed();
        assert!(waited <= Duration::from_secs(10), "{waited:?}");
        assert!(waited >= Duration::from_secs(8), "{waited:?}");
    }
}
