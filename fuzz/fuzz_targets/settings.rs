//! `keel.toml`: `keel::Settings::resolve_text` on arbitrary UTF-8 text (no file system writes;
//! the project directory does not exist).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match keel::Settings::resolve_text(
        keel::SettingsInput::default(),
        Path::new("/nonexistent-project"),
        Some(text),
    ) {
        Ok(settings) => {
            // Documented: at least 1.
            assert!(settings.lock_attempts >= 1);
            let _ = settings.redacted_url();
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = e.code();
        }
    }
});
