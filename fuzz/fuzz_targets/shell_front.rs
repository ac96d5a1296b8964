//! The fast front end of `shell::analyse` against brush-parser: for any
//! text, `analyse` must return exactly what `analyse_with_brush_parser`
//! returns. The worktree contains links in and out of it and a loop, so path
//! effects go through symlink resolution as well.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mc_governance::shell::{self, ShellContext};
use std::sync::LazyLock;

mod parser_panics;

static CONTEXT: LazyLock<ShellContext> = LazyLock::new(|| {
    parser_panics::let_shell_module_catch_parser_panics();
    let root = std::env::temp_dir().join("mcg-fuzz-shell-front");
    let worktree = root.join("job");
    for dir in ["src/app", "build"] {
        let _ = std::fs::create_dir_all(worktree.join(dir));
    }
    let _ = std::fs::create_dir_all(root.join("outside"));
    for (link, target) in [
        ("link-out", "../outside"),
        ("link-in", "src"),
        ("loop", "loop"),
    ] {
        let _ = std::os::unix::fs::symlink(target, worktree.join(link));
    }
    let worktree = std::fs::canonicalize(&worktree).unwrap_or(worktree);
    ShellContext {
        cwd: worktree.clone(),
        home: Some(root.join("home")),
        worktree,
    }
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let fast = shell::analyse(&text, &CONTEXT);
    let reference = shell::analyse_with_brush_parser(&text, &CONTEXT);
    assert_eq!(fast, reference, "the analyses of {text:?} differ");
});
