//! `events::parse_event_text` on any bytes, read as UTF-8 with invalid
//! sequences replaced, as the monitor does with a broken stream. It must
//! return `Ok` or `Err`, never panic, and return exactly what the `Value`
//! readers alone return (unless those hit a limit of their own): the
//! borrowed reader it tries first may decline an event but never read one
//! differently.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mc_governance::events;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = events::parse_event_text(&text);
    let by_value = events::parse_event_text_by_value(&text);
    // Only the `Value` readers stop at 128 levels of nesting and at numbers
    // beyond an f64.
    if !by_value.as_ref().is_err_and(events::is_value_limit) {
        assert_eq!(parsed, by_value, "the two readers differ");
    }
});
