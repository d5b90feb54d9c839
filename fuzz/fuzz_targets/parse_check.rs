//! Fuzz target `parse_check`: see FUZZING.md and `checks::parse_check`.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::parse_check(data));
