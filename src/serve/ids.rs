//! Decision and batch ids: UUID v7 (RFC 9562 §5.7), 48 bits of Unix milliseconds then
//! 74 random bits.
//!
//! `Uuid::now_v7` asks the operating system for randomness on every call (a `getrandom`
//! system call); on a batch of 1,000 decisions that was the largest single cost of the
//! request. Here each thread seeds a xoshiro256++ generator once, from the system's
//! randomness through a v4 UUID, and draws the 74 bits from it: ids stay unique across
//! threads, processes and replicas (74 random bits per millisecond), and a batch reads
//! the clock once.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use uuid::Uuid;

thread_local! {
    static RNG: RefCell<Xoshiro256PlusPlus> = RefCell::new({
        let mut seed = [0u8; 32];
        seed[..16].copy_from_slice(Uuid::new_v4().as_bytes());
        seed[16..].copy_from_slice(Uuid::new_v4().as_bytes());
        Xoshiro256PlusPlus::from_seed(seed)
    });
}

/// Milliseconds since the Unix epoch of `t` (0 before it).
pub fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A v7 id for the millisecond `ms`.
pub fn v7(ms: u64) -> Uuid {
    let mut bytes = [0u8; 10];
    RNG.with(|r| {
        let mut r = r.borrow_mut();
        bytes[..8].copy_from_slice(&r.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&r.next_u64().to_le_bytes()[..2]);
    });
    uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid()
}

/// A v7 id for now.
pub fn now() -> Uuid {
    v7(millis(SystemTime::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_version_7_unique_and_carry_the_time() {
        let ms = millis(SystemTime::now());
        let ids: std::collections::HashSet<Uuid> = (0..10_000).map(|_| v7(ms)).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(10) {
            assert_eq!(id.get_version_num(), 7);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            let (secs, nanos) = id.get_timestamp().expect("v7 has a time").to_unix();
            assert_eq!(secs * 1000 + u64::from(nanos) / 1_000_000, ms);
        }
        // Another thread draws other ids.
        let other: Vec<Uuid> = std::thread::spawn(move || (0..1000).map(|_| v7(ms)).collect())
            .join()
            .expect("thread");
        assert!(other.iter().all(|id| !ids.contains(id)));
    }
}
