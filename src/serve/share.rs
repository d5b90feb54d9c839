//! Sharing the core with the service next door.
//!
//! A sidecar runs on the cores of the service it answers. Under load the HTTP thread
//! can stay runnable for a whole scheduler tick (4 ms at `HZ=250`) while a client
//! thread that has its answers waiting sits on the same core's run queue; the client
//! then sees the tick as latency. So the HTTP thread gives the core away
//! (`sched_yield`) once it has run [`SLICE`] without sleeping, before the next request.
//!
//! Only threads of a runtime built with [`install`] ever yield (`regain serve` installs
//! it); a program that serves [`super::router`] on its own runtime is left alone.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// How long the HTTP thread runs without sleeping before it yields the core.
pub const SLICE: Duration = Duration::from_micros(250);

/// A park shorter than this was not a sleep (the runtime ran out of tasks, but events
/// were already waiting), so the thread's running time goes on counting.
pub const SLEPT: Duration = Duration::from_micros(50);

thread_local! {
    /// Whether this thread's runtime has the hooks of [`install`].
    static HOOKED: Cell<bool> = const { Cell::new(false) };
    /// When the thread last parked.
    static PARKED_AT: Cell<Option<Instant>> = const { Cell::new(None) };
    /// When the current stretch of running began (at its first request).
    static SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Install the park hooks that make the runtime's threads yield (see the module).
pub fn install(builder: &mut tokio::runtime::Builder) -> &mut tokio::runtime::Builder {
    builder
        .on_thread_park(|| parked(Instant::now()))
        .on_thread_unpark(|| unparked(Instant::now()))
}

fn parked(now: Instant) {
    HOOKED.with(|h| h.set(true));
    PARKED_AT.with(|p| p.set(Some(now)));
}

fn unparked(now: Instant) {
    HOOKED.with(|h| h.set(true));
    let slept = PARKED_AT
        .with(Cell::take)
        .is_none_or(|at| now.saturating_duration_since(at) >= SLEPT);
    if slept {
        SINCE.with(|s| s.set(None));
    }
}

/// Called before each request at `now`: on a thread with the hooks, yield when it has
/// run [`SLICE`] since it last slept or yielded. Says whether it yielded.
pub fn before_request(now: Instant) -> bool {
    if !HOOKED.with(Cell::get) {
        return false;
    }
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
    fn yields_once_per_slice_of_running_and_starts_over_after_a_sleep() {
        let t0 = Instant::now();
        let us = Duration::from_micros;
        assert!(
            !before_request(t0 + SLICE * 10),
            "a thread without the hooks never yields"
        );
        assert!(!before_request(t0 + SLICE * 20));
        unparked(t0);
        assert!(
            !before_request(t0),
            "the first request after a sleep starts the slice"
        );
        assert!(
            !before_request(t0 + SLICE / 2),
            "half a slice in: keep running"
        );
        // Out of tasks, but events were waiting: not a sleep, the count goes on.
        parked(t0 + SLICE / 2);
        unparked(t0 + SLICE / 2 + us(5));
        assert!(before_request(t0 + SLICE), "a whole slice in: yield");
        // The slice starts over at the yield, so the next request does not yield again.
        assert!(!before_request(Instant::now()));
        // A real sleep starts the count over.
        parked(t0 + SLICE * 2);
        unparked(t0 + SLICE * 2 + SLEPT);
        assert!(!before_request(t0 + SLICE * 10));
        assert!(!before_request(t0 + SLICE * 10 + SLICE / 2));
        // A clock read from before the slice began (a request timed before the wake-up).
        parked(t0 + SLICE * 20);
        unparked(t0 + SLICE * 30);
        assert!(!before_request(t0 + SLICE * 40));
        assert!(!before_request(t0));
    }
}
