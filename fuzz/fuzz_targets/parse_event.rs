//! `events::parse_event_text` on any bytes, read as UTF-8 with invalid
//! sequences replaced, as the monitor does with a broken stream. It must
//! return `Ok` or `Err`, never panic, and return exactly what the `Value`
//! readers alone return: the borrowed reader it tries first may decline an
//! event but never read one differently.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mc_governance::events;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = events::parse_event_text(&text);
    assert_eq!(parsed, events::parse_event_text_by_value(&text), "the two readers differ");
});
