//! Directives: `keel_core::directives::parse` on arbitrary text, and `parse_duration` on the
//! whole text and on the value of every `key=value` line.
#![no_main]

use keel_core::directives::{parse, parse_duration};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse(&text) {
        Ok(_) => {}
        Err(e) => {
            // Lines are 1-based.
            assert!(e.line >= 1);
            let _ = e.to_string();
        }
    }
    let _ = parse_duration(&text);
    for line in text.lines().take(64) {
        if let Some((_, value)) = line.split_once('=') {
            let _ = parse_duration(value);
        }
    }
});
