//! Fuzz target `profile_json`: see FUZZING.md and `checks::profile_json`.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::profile_json(data));
