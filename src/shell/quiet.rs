//! Catching brush-parser's panics without printing them.
//!
//! brush-parser 0.4 panics on some input (`ls ~99999999999999999999` parses
//! the number with `unwrap`). The analysis catches those panics and reports
//! the command as opaque. Rust's default panic hook would still print each
//! one to the host's standard error, with a backtrace when `RUST_BACKTRACE`
//! is set, which adds noise to the monitor's output and milliseconds a line.

use std::cell::Cell;
use std::panic::{self, UnwindSafe};
use std::sync::Once;

thread_local! {
    /// True while this thread runs brush-parser under `catch_parser_panic`.
    static IN_PARSER: Cell<bool> = const { Cell::new(false) };
}

/// Runs `parse` and returns its result, or `None` if it panicked. A panic
/// raised while it runs is not printed. Any other panic still reaches the
/// hook that was installed before the first call.
pub(crate) fn catch_parser_panic<T>(parse: impl FnOnce() -> T + UnwindSafe) -> Option<T> {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_PARSER.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let outer = IN_PARSER.with(|flag| flag.replace(true));
    let outcome = panic::catch_unwind(parse);
    IN_PARSER.with(|flag| flag.set(outer));
    outcome.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_parser_panic_returns_none_on_panic() {
        let caught: Option<()> = catch_parser_panic(|| panic!("inside the parser"));
        assert_eq!(caught, None);
        assert!(!IN_PARSER.with(Cell::get));
        assert_eq!(catch_parser_panic(|| 7), Some(7));
    }
}
