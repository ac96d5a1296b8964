//! `shell::analyse` on any text, and the allowlist property of the whole
//! decision: a command line that contains a denied sub-command joined by
//! `&&`, `;`, `||` or `|` is never auto-approved, whatever surrounds it,
//! unless a comment really hides it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mc_governance::decision::Decision;
use mc_governance::governor::{ExplainRequest, Governor, GovernorOptions, JobRegistration};
use mc_governance::policy;
use mc_governance::shell::{self, ShellContext};
use std::path::PathBuf;

mod parser_panics;

const JOB_ID: &str = "fuzz-job";
const POLICY: &str = "permissions:\n  shell_command:\n    inside_worktree: auto-approve\n    outside_worktree: auto-approve\n    rules:\n      - { pattern: \"rm -rf *\", decision: deny }\n";
const DENIED: &str = "rm -rf /tmp/fuzz-target";
const JOINERS: [&str; 4] = [" && ", "; ", " || ", " | "];

fn worktree() -> PathBuf {
    let worktree = std::env::temp_dir().join("mcg-fuzz-worktree");
    let _ = std::fs::create_dir_all(worktree.join("src"));
    std::fs::canonicalize(&worktree).unwrap_or(worktree)
}

fn governor() -> Governor {
    parser_panics::let_shell_module_catch_parser_panics();
    let mut governor = Governor::new(GovernorOptions::default());
    let plan = policy::parse_config(POLICY, "fuzz-policy.yaml").expect("the fuzz policy parses");
    governor.register_plan("fuzz-plan", plan).expect("register the fuzz plan");
    let registration = JobRegistration {
        job_id: JOB_ID.to_string(),
        plan_id: Some("fuzz-plan".to_string()),
        worktree: worktree(),
        home: Some(PathBuf::from("/home/fuzz")),
        ..JobRegistration::default()
    };
    governor.register_job(registration).expect("register the fuzz job");
    governor
}

thread_local! {
    static GOVERNOR: Governor = governor();
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let worktree = worktree();
    let context = ShellContext { cwd: worktree.clone(), home: Some(PathBuf::from("/home/fuzz")), worktree };
    let _ = shell::analyse(&text, &context);

    // A fragment that leaves a quote or heredoc open makes the line
    // unparsable, hence opaque and not auto-approved either. A `#` on the
    // fragment's last line may start a comment that really hides the denied
    // command when it follows on the same line, so that one form is skipped.
    let may_comment_out = text.rsplit('\n').next().is_some_and(|last_line| last_line.contains('#'));
    // A fragment ending in an odd number of backslashes escapes the `;` of
    // the joiner, which makes the denied command plain arguments.
    let escapes_joiner = text.bytes().rev().take_while(|byte| *byte == b'\\').count() % 2 == 1;
    GOVERNOR.with(|governor| {
        for joiner in JOINERS {
            let mut commands = vec![format!("{DENIED}{joiner}{text}")];
            if !may_comment_out && !(escapes_joiner && joiner == "; ") {
                commands.push(format!("{text}{joiner}{DENIED}"));
            }
            for command in commands {
                let request = ExplainRequest { command: Some(command.clone()), ..ExplainRequest::default() };
                if let Ok(explanation) = governor.explain(JOB_ID, &request) {
                    assert_ne!(explanation.decision, Decision::AutoApprove, "approved {command:?}");
                }
            }
        }
    });
});
