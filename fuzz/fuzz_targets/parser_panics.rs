//! brush-parser 0.4 panics on some malformed input (an IO number past
//! `i32::MAX`, such as `echo 99999999999>x`). `shell::analyse` catches those
//! panics and reports the command as opaque, but libFuzzer's panic hook
//! aborts on any panic, caught or not. This hook lets panics raised inside
//! brush-parser unwind to the shell module's `catch_unwind` and keeps every
//! other panic fatal.

use std::sync::Once;

pub fn let_shell_module_catch_parser_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let fatal = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_parser = info.location().is_some_and(|location| location.file().contains("brush-parser"));
            if !in_parser {
                fatal(info);
            }
        }));
    });
}
