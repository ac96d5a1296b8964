//! Exhaustive search of short command lines: every sequence of up to N
//! tokens from an alphabet of shell syntax goes through `shell::analyse`.
//! brush-parser's worst failures are on lines of a few bytes (it allocates
//! until the allocator aborts the process), which random fuzzing reaches
//! only by luck. An abort ends this test process, and a line slower than
//! `SLOW` fails the test with the line.
//!
//! N is 4 by default: 837,930 lines, about 10 s in a debug build, which
//! include every line that aborted brush-parser 0.4 without the guards in
//! `shell::walk` (`<<'' `, `$(<<  `, ...). Set `MCG_ENUMERATE_TOKENS=5` for
//! all 25,137,930 lines of up to five tokens, best with `--release`.
//!
//! A second, ignored test draws longer random lines of nested expansions
//! and extended globs and prints the slowest: `cargo test --release --test
//! shell_enumeration -- --ignored --nocapture`, with `MCG_RANDOM_LINES` and
//! `MCG_RANDOM_SEED` to change how many and which.

use mc_governance::shell::{analyse, ShellContext};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Single characters that start shell constructs, a plain word, and the
/// two-character openers, so that short sequences reach deep states.
const TOKENS: &[&str] = &[
    "$", "(", ")", "<", ">", " ", "\t", "\n", "'", "\"", "\\", "`", "{", "}", "[", "]", "a", "-", ";", "|", "&", "#", "=", "<<",
    "$(", "${", "$[", "((", "))", "E",
];

/// Maximum time for one line: far above the microseconds a line normally
/// takes, so that only a stall fails, even in a debug build.
const SLOW: Duration = Duration::from_secs(2);

/// Builds the line with number `index` among those of `length` tokens.
fn line_of(mut index: u64, length: u32) -> String {
    let base = TOKENS.len() as u64;
    let mut line = String::new();
    for _ in 0..length {
        let token = usize::try_from(index % base).unwrap_or_default();
        line.push_str(TOKENS[token]);
        index /= base;
    }
    line
}

#[test]
fn short_lines_are_analysed_in_bounded_time() {
    let max_tokens: u32 = std::env::var("MCG_ENUMERATE_TOKENS").ok().and_then(|text| text.parse().ok()).unwrap_or(4);
    let context = ShellContext {
        cwd: PathBuf::from("/w/job"),
        home: Some(PathBuf::from("/home/u")),
        worktree: PathBuf::from("/w/job"),
    };
    let mut lines = 0u64;
    for length in 1..=max_tokens {
        for index in 0..(TOKENS.len() as u64).pow(length) {
            let line = line_of(index, length);
            let started = Instant::now();
            let analysis = analyse(&line, &context);
            let took = started.elapsed();
            assert!(took < SLOW, "{line:?} took {took:?}");
            std::hint::black_box(analysis);
            lines += 1;
        }
    }
    let expected: u64 = (1..=max_tokens).map(|length| (TOKENS.len() as u64).pow(length)).sum();
    assert_eq!(lines, expected);
}

/// Openers and closers whose nesting brush-parser's word parser is slowest
/// on, for the random search.
const NESTED_TOKENS: &[&str] = &[
    "$((", "@(", "$[", "${g[", "${g", "\"", "\"))\"", "\"()\"", "(", ")", "$(", "`", " ", "]", "}", "[", "{", "((", "))", "'", "\\",
    "<(", "+(", "*(", "!(", "?(", "$'", "=", "a", ":-", "#", "%", "/", "${#", "${!",
];

#[test]
#[ignore = "a search, not a check: minutes in a release build"]
fn random_nested_lines_stay_fast() {
    let count: u64 = std::env::var("MCG_RANDOM_LINES").ok().and_then(|text| text.parse().ok()).unwrap_or(1_000_000);
    let mut state: u64 = std::env::var("MCG_RANDOM_SEED").ok().and_then(|text| text.parse().ok()).unwrap_or(777);
    let context = ShellContext { cwd: PathBuf::from("/w/job"), home: None, worktree: PathBuf::from("/w/job") };
    let mut slowest = (Duration::ZERO, String::new());
    for _ in 0..count {
        // xorshift64: the same seed draws the same lines on every machine.
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let length = 1 + next() % 40;
        let line: String = (0..length).map(|_| NESTED_TOKENS[usize::try_from(next() % NESTED_TOKENS.len() as u64).unwrap_or_default()]).collect();
        let started = Instant::now();
        std::hint::black_box(analyse(&line, &context));
        let took = started.elapsed();
        assert!(took < SLOW, "{line:?} took {took:?}");
        if took > slowest.0 {
            slowest = (took, line);
        }
    }
    println!("slowest of {count} lines: {:?} for {:?}", slowest.0, slowest.1);
}
