//! Fuzz target: any text as a recipe string — compiling and rendering must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        whisk::fuzzing::template(text);
    }
});
