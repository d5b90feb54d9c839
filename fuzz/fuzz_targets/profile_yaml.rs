//! Fuzz target `profile_yaml`: see FUZZING.md and `checks::profile_yaml`.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::profile_yaml(data));
