//! Sharing the core with the service next door.
//!
//! A sidecar runs on the cores of the service it answers. Under load the HTTP thread
//! can stay runnable for a whole scheduler tick (4 ms at `HZ=250`) while a client
//! thread that has its answers waiting sits on the same core's run queue; the client
//! then sees the tick as latency. So the HTTP thread gives the core away
//! (`sched_yield`) once it has run [`SLICE`] without parking, before the next request.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// How long the HTTP thread runs without parking before it yields the core.
pub const SLICE: Duration = Duration::from_micros(250);

thread_local! {
    static SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The runtime's `on_thread_unpark` hook: the thread just woke, so it has not run yet.
/// (`regain serve` installs it; a runtime built without it still yields at most once
/// per slice, counted from the last yield.)
pub fn unparked() {
    SINCE.with(|s| s.set(None));
}

/// Called before each request at `now`: yield when the thread has run [`SLICE`]
/// since it woke or last yielded. Says whether it yielded.
pub fn before_request(now: Instant) -> bool {
    SINCE.with(|s| match s.get() {
        None => {
            s.set(Some(now));
            false
        }
        Some(t) if now.saturating_duration_since(t) >= SLICE => {
            std::thread::yield_now();
            s.set(Some(Instant::now()));
            true
        }
        Some(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yields_once_per_slice_of_running_and_starts_over_on_waking() {
        let t0 = Instant::now();
        unparked();
        assert!(
            !before_request(t0),
            "the first request after waking starts the slice"
        );
        assert!(
            !before_request(t0 + SLICE / 2),
            "half a slice in: keep running"
        );
        assert!(before_request(t0 + SLICE), "a whole slice in: yield");
        // The slice starts over at the yield, so the next request does not yield again.
        assert!(!before_request(Instant::now()));
        unparked();
        assert!(
            !before_request(t0 + SLICE * 10),
            "a thread that parked starts over"
        );
        // A clock read before the slice began (a request timed before the wake-up).
        unparked();
        assert!(!before_request(t0 + SLICE * 10));
        assert!(!before_request(t0));
    }
}
