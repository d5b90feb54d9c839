//! A big-stack runner for recursive work over policy-sized structures.
//!
//! Compilation, analysis and diffing recurse over decision diagrams whose depth grows with
//! the number of facts (tens of thousands in adversarial input). Rather than rewriting
//! every walk iteratively, such work runs through [`run_big`], which executes it on a
//! worker thread with a [`BIG_STACK`]-byte stack. The stack is reserved, not committed:
//! pages are touched only as deep as the recursion goes, so a shallow run costs one thread
//! start (tens of microseconds).
//!
//! Nested calls are free: on a worker thread [`run_big`] runs the closure inline, so a
//! library function may protect itself with `run_big` and still be called from code that
//! already runs on the big stack.

use std::cell::Cell;

/// The stack size of the worker thread: 256 MiB.
pub const BIG_STACK: usize = 256 << 20;

thread_local! {
    static ON_BIG_STACK: Cell<bool> = const { Cell::new(false) };
}

/// True when the current thread is a [`run_big`] worker.
pub fn on_big_stack() -> bool {
    ON_BIG_STACK.with(Cell::get)
}

/// Run `f` on a thread with a [`BIG_STACK`]-byte stack and return its result.
///
/// - Already on such a thread: `f` runs inline.
/// - No thread can be started (resource limits): `f` runs inline on the caller's stack,
///   as it would without this function. It never panics for want of a thread.
/// - `f` panics: the panic is resumed on the caller's thread, as if `f` had run inline.
pub fn run_big<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if on_big_stack() {
        return f();
    }
    // The closure stays in `slot` until the worker takes it, so that it can still run
    // inline if the worker cannot be started.
    let mut slot = Some(f);
    let outcome = std::thread::scope(|s| {
        let slot = &mut slot;
        let worker = std::thread::Builder::new()
            .name("regain-big-stack".into())
            .stack_size(BIG_STACK)
            .spawn_scoped(s, move || {
                ON_BIG_STACK.with(|b| b.set(true));
                slot.take().map(|f| f())
            });
        worker.map(|h| h.join())
    });
    match outcome {
        Ok(Ok(Some(value))) => value,
        Ok(Err(payload)) => std::panic::resume_unwind(payload),
        // Not started (or, impossibly, started without taking the closure).
        Ok(Ok(None)) | Err(_) => match slot.take() {
            Some(f) => f(),
            None => unreachable_after_take(),
        },
    }
}

/// The worker took the closure and returned without a value, which `Option::map` cannot
/// do; kept as a function so that the lint wall sees one justified exception.
#[allow(
    clippy::panic,
    reason = "the worker returns None only when it did not take the closure"
)]
#[cold]
fn unreachable_after_take() -> ! {
    panic!("regain: big-stack worker lost its task")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recursion with a 64-byte live buffer per frame: 200,000 frames overflow the
    /// 2 MiB stack of a test thread.
    fn depth(n: u64) -> u64 {
        let pad = std::hint::black_box([n as u8; 64]);
        if n == 0 {
            0
        } else {
            let below = depth(n - 1);
            1 + below + u64::from(std::hint::black_box(pad)[0] == 1 && n == u64::MAX)
        }
    }

    #[test]
    fn deep_recursion_runs_on_the_big_stack() {
        assert_eq!(run_big(|| depth(200_000)), 200_000);
    }

    #[test]
    fn nested_calls_run_inline() {
        let outer = run_big(|| {
            let id = std::thread::current().id();
            let inner = run_big(|| std::thread::current().id());
            (id, inner, on_big_stack())
        });
        assert_eq!(outer.0, outer.1);
        assert!(outer.2);
        assert!(!on_big_stack());
    }

    #[test]
    fn borrows_and_panics_behave_as_inline() {
        let v = String::from("abc");
        assert_eq!(run_big(|| v.len()), 3);
        let r = std::panic::catch_unwind(|| run_big(|| -> i32 { panic!("boom") }));
        assert!(r.is_err());
    }
}
