//! `Engine::evaluate` does not allocate: a counting global allocator in this test binary
//! counts the calling thread's allocations around many evaluations of the shipped
//! policies (own profiles, profiles built by another engine of the same policy, and
//! profiles of another policy, which fail closed).

#[path = "../fuzz/checks/mod.rs"]
mod checks;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use regain::{Engine, Profile};

/// The system allocator, counting allocations per thread (other test threads do not
/// disturb the count).
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: the allocator may run while the thread's locals are torn down.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is forwarded to `System` unchanged; the counter is a const
// thread-local `Cell`, which neither allocates nor locks.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCS.with(|c| c.get())
}

/// Profiles of an engine's policy: every profile of a small space, else 20,000 sampled
/// ones (bounds favoured).
fn profiles_for(engine: &Engine) -> Vec<Profile> {
    let ir = engine.policy().ir();
    let (values, _) = checks::profiles(ir, 42, 5_000);
    values
        .iter()
        .map(|v| {
            engine
                .profile_from_json(&checks::json_of(ir, v))
                .expect("in-domain profile")
        })
        .collect()
}

#[test]
fn the_counter_counts() {
    let before = allocations();
    let v: Vec<u64> = black_box(Vec::with_capacity(16));
    let after = allocations();
    drop(v);
    assert_eq!(after, before + 1, "the counting allocator must see a Vec");
}

#[test]
fn evaluate_does_not_allocate() {
    let shipped = checks::shipped();
    let mut total = 0usize;
    for (i, s) in shipped.iter().enumerate() {
        let own = profiles_for(&s.engine);
        // The same policy compiled again: its profiles carry another stamp and are
        // classified on the fly.
        let other = Engine::new(&s.policy).expect("compiles");
        let foreign = profiles_for(&other);
        // Another policy's profiles: the wrong shape, failing closed.
        let next = &shipped[(i + 1) % shipped.len()];
        let wrong = profiles_for(&next.engine);
        // Warm up (first touches of lazily initialised statics are not the engine's).
        for p in own.iter().chain(&foreign).chain(&wrong).take(8) {
            black_box(s.engine.evaluate(black_box(p)));
        }
        let before = allocations();
        let mut allowed = 0usize;
        for _ in 0..3 {
            for p in own.iter().chain(&foreign).chain(&wrong) {
                let d = s.engine.evaluate(black_box(p));
                allowed += usize::from(d.kind() == regain::DecisionKind::Allow);
                black_box(d);
            }
        }
        let after = allocations();
        assert_eq!(
            after,
            before,
            "{}: evaluate allocated {} times over {} evaluations",
            s.name,
            after - before,
            3 * (own.len() + foreign.len() + wrong.len())
        );
        assert!(
            allowed > 0,
            "{}: no profile allowed: profiles are not varied",
            s.name
        );
        total += 3 * (own.len() + foreign.len() + wrong.len());
    }
    assert!(total > 50_000, "only {total} evaluations");
}
