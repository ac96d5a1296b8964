//! `events::parse_event_text` on any bytes, read as UTF-8 with invalid
//! sequences replaced, as the monitor does with a broken stream. It must
//! return `Ok` or `Err` and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mc_governance::events;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = events::parse_event_text(&text);
});
