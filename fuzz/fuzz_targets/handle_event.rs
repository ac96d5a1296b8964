//! `Governor::handle_event` on a registered job, fed any bytes as one SSE
//! line. Besides never panicking, a permission request the governor decides
//! must name a request id and session id taken from the event, and a
//! request with no classified action is never approved.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mc_governance::decision::Decision;
use mc_governance::events;
use mc_governance::governor::{Governor, GovernorOptions, JobRegistration};
use std::cell::RefCell;
use std::path::PathBuf;

mod parser_panics;

const JOB_ID: &str = "fuzz-job";

fn governor() -> Governor {
    parser_panics::let_shell_module_catch_parser_panics();
    let worktree = std::env::temp_dir().join("mcg-fuzz-worktree");
    let _ = std::fs::create_dir_all(worktree.join("src"));
    let mut governor = Governor::new(GovernorOptions::default());
    let registration = JobRegistration {
        job_id: JOB_ID.to_string(),
        worktree: std::fs::canonicalize(&worktree).unwrap_or(worktree),
        home: Some(PathBuf::from("/home/fuzz")),
        ..JobRegistration::default()
    };
    governor.register_job(registration).expect("register the fuzz job");
    governor
}

thread_local! {
    // One governor for the whole run, so state from earlier inputs (tool
    // calls, sessions, ledger entries) meets later ones as in a real stream.
    static GOVERNOR: RefCell<Governor> = RefCell::new(governor());
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(event) = events::parse_event_text(&text) else {
        return;
    };
    GOVERNOR.with(|governor| {
        let mut governor = governor.borrow_mut();
        let Ok(outcome) = governor.handle_parsed(JOB_ID, event) else {
            return;
        };
        if let Some(permission) = outcome.permission {
            assert!(!permission.permission_id.is_empty(), "decided a request without an id");
            assert!(!permission.session_id.is_empty(), "decided a request without a session id");
            if permission.actions.is_empty() {
                assert_ne!(permission.decision, Decision::AutoApprove, "approved a request with no action");
            }
        }
    });
});
