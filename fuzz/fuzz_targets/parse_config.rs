//! `policy::parse_config` on any text, then `CompiledPolicy::compile` on
//! whatever parses. Both must report problems as diagnostics, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mc_governance::policy::{self, CompiledPolicy};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(config) = policy::parse_config(&text, "fuzz.yaml") {
        let _ = CompiledPolicy::compile(Some(&config), None, &[], Path::new("/work/fuzz"));
        let _ = CompiledPolicy::compile(None, Some(&config), &[], Path::new("/work/fuzz"));
    }
});
