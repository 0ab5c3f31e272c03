//! A stream made of the steps of a state machine, for the streams an idle subscription holds (`service::alerts`,
//! `http::ws::operation`): each step is one future that yields an item and the state the next step starts from.
//!
//! `futures_util::stream::unfold` keeps room for the state beside the pending step, though while a step is pending
//! the state is inside it: ten thousand idle subscriptions kept that room empty, a few hundred bytes each. Here the
//! stream is only its pending step, in one allocation that each next step reuses.

use futures_util::Stream;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The stream of `step`'s items, starting from `state`; it ends when a step yields `None`.
pub fn steps<S, T, F>(state: S, step: fn(S) -> F) -> Steps<S, F>
where
    F: Future<Output = Option<(T, S)>>,
{
    Steps {
        pending: Some(Box::pin(step(state))),
        step,
    }
}

/// See [`steps`].
pub struct Steps<S, F> {
    /// The step running; `None` once one has yielded `None`.
    pending: Option<Pin<Box<F>>>,
    step: fn(S) -> F,
}

impl<S, T, F> Stream for Steps<S, F>
where
    F: Future<Output = Option<(T, S)>>,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // `Steps` is `Unpin`: the step is pinned in its own allocation.
        let this = self.get_mut();
        let Some(pending) = this.pending.as_mut() else {
            return Poll::Ready(None);
        };
        match ready!(pending.as_mut().poll(cx)) {
            Some((item, state)) => {
                // The next step, in the allocation of the one that finished; it runs when next polled.
                pending.set((this.step)(state));
                Poll::Ready(Some(item))
            }
            None => {
                this.pending = None;
                Poll::Ready(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn yields_each_steps_item_in_turn_and_ends_at_the_first_none() {
        async fn count(n: u32) -> Option<(u32, u32)> {
            (n < 3).then_some((n, n + 1))
        }
        let items: Vec<u32> = steps(0, count).collect().await;
        assert_eq!(items, vec![0, 1, 2]);
        // Polled again after its end, it stays ended and runs no step.
        let mut s = steps(5, count);
        assert_eq!(s.next().await, None);
        assert_eq!(s.next().await, None);
    }
}
