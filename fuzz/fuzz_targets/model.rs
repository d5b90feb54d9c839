//! Fuzz target `model`: see FUZZING.md and `checks::model`.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::model(data));
