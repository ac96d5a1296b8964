//! `handle_parsed_brief` writes out only the deciding verdict. Its brief
//! outcome and its decision log must equal those of `handle_parsed` on
//! every request, including ties between actions and opaque commands.

mod common;

use common::TempFolder;
use mc_governance::events::parse_event_text;
use mc_governance::governor::{Governor, GovernorOptions, JobRegistration};
use mc_governance::log::DecisionRecord;
use mc_governance::policy::parse_config;
use proptest::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};

const PLAN: &str = "permissions:
  shell_command:
    rules:
      - { pattern: \"git push *\", decision: ask-user, reason: pushes leave the machine }
      - { pattern: \"rm -rf *\", decision: deny }
      - { pattern: \"make deploy\", decision: deny }
  file_edit:
    rules: { \"**/.env\": deny, \"docs/**\": ask-user }
  network_access:
    rules: { \"*.example.com\": auto-approve, \"evil.example\": deny }
  install_packages:
    rules: { \"npm install left-pad\": auto-approve }
  mcp_tools:
    rules: { \"github_*\": ask-user, \"github_delete_*\": deny }
";

/// Sub-commands whose verdicts differ: approved, held, denied and opaque.
const PARTS: &[&str] = &[
    "ls -la src",
    "git status",
    "git push origin main",
    "rm -rf build",
    "make deploy",
    "echo hi > docs/a.md",
    "echo x > .env",
    "cat /etc/hosts",
    "curl https://api.example.com/x",
    "curl https://evil.example/x",
    "npm install left-pad",
    "npm install lodash",
    "eval \"$X\"",
    "cd .. && touch y",
];

const JOINERS: &[&str] = &[" && ", "; ", " | ", " || "];

/// A worktree with a `docs` folder, removed with the returned folder.
fn worktree() -> (TempFolder, PathBuf) {
    let folder = TempFolder::new("mcg-brief");
    let worktree = folder.path.join("job");
    std::fs::create_dir_all(worktree.join("docs")).expect("create the test worktree");
    (folder, worktree)
}

fn governor(worktree: &Path) -> Governor {
    let mut governor = Governor::new(GovernorOptions::default());
    governor.register_plan("plan", parse_config(PLAN, "plan.yaml").expect("the plan parses")).expect("register the plan");
    let registration = JobRegistration {
        job_id: "job".into(),
        plan_id: Some("plan".into()),
        worktree: worktree.to_path_buf(),
        home: Some(PathBuf::from("/home/agent")),
        ..JobRegistration::default()
    };
    governor.register_job(registration).expect("register the job");
    governor
}

fn request_line(id: usize, permission: &str, patterns: &[&str], metadata: serde_json::Value) -> String {
    let properties = json!({"id": format!("per_{id}"), "sessionID": "ses_1", "permission": permission,
        "patterns": patterns, "metadata": metadata, "always": []});
    format!("data: {}", json!({"type": "permission.asked", "properties": properties}))
}

fn lines_for(commands: &[String], worktree: &Path) -> Vec<String> {
    let mut lines: Vec<String> = commands
        .iter()
        .enumerate()
        .map(|(id, command)| request_line(id, "bash", &[command.as_str()], json!({ "command": command })))
        .collect();
    let worktree = worktree.to_string_lossy();
    let others = [
        ("edit", format!("{worktree}/src/a.ts")),
        ("edit", format!("{worktree}/.env")),
        ("edit", "/etc/passwd".to_string()),
        ("webfetch", "https://api.example.com/docs".to_string()),
        ("github_delete_repo", String::new()),
        ("github_list_issues", String::new()),
    ];
    for (offset, (permission, target)) in others.iter().enumerate() {
        let metadata = match *permission {
            "edit" => json!({ "filepath": target }),
            "webfetch" => json!({ "url": target }),
            _ => json!({}),
        };
        lines.push(request_line(commands.len() + offset, permission, &[permission], metadata));
    }
    lines
}

/// Feeds the lines through both paths and returns, per line, the two brief
/// outcomes as JSON, then the two decision logs without their times.
fn run_both(lines: &[String], worktree: &Path) -> (Vec<(String, String)>, Vec<DecisionRecord>, Vec<DecisionRecord>) {
    let (mut full, mut brief) = (governor(worktree), governor(worktree));
    let mut outcomes = Vec::new();
    for line in lines {
        let from_full = full.handle_parsed("job", parse_event_text(line).expect("the line parses")).expect("full decides");
        let from_brief = brief.handle_parsed_brief("job", parse_event_text(line).expect("the line parses")).expect("brief decides");
        let full_json = serde_json::to_string(&from_full.brief()).expect("serialise");
        let brief_json = serde_json::to_string(&from_brief.brief()).expect("serialise");
        outcomes.push((full_json, brief_json));
    }
    let without_time = |governor: &Governor| -> Vec<DecisionRecord> {
        let (entries, _) = governor.decision_log("job").expect("the job is registered");
        entries.into_iter().map(|record| DecisionRecord { time_ms: 0, ..record }).collect()
    };
    let (full_log, brief_log) = (without_time(&full), without_time(&brief));
    (outcomes, full_log, brief_log)
}

#[test]
fn brief_and_full_agree_per_part() {
    let (_folder, worktree) = worktree();
    let commands: Vec<String> = PARTS.iter().map(|part| part.to_string()).collect();
    let (outcomes, full_log, brief_log) = run_both(&lines_for(&commands, &worktree), &worktree);
    for (full, brief) in &outcomes {
        assert_eq!(full, brief);
    }
    assert_eq!(full_log, brief_log);
    let decisions: Vec<&str> = full_log.iter().map(|record| record.decision.as_str()).collect();
    assert!(decisions.contains(&"auto-approve"), "{decisions:?}");
    assert!(decisions.contains(&"ask-user"), "{decisions:?}");
    assert!(decisions.contains(&"deny"), "{decisions:?}");
}

#[test]
fn brief_keeps_only_the_deciding_verdict() {
    let (_folder, worktree) = worktree();
    let mut governor = governor(&worktree);
    let line = request_line(1, "bash", &["x"], json!({ "command": "ls -la src && echo hi > docs/a.md && rm -rf build" }));
    let outcome = governor.handle_parsed_brief("job", parse_event_text(&line).expect("the line parses")).expect("decides");
    let permission = outcome.permission.expect("a permission outcome");
    assert_eq!(permission.decision.as_str(), "deny");
    assert_eq!(permission.actions.len(), 1);
    assert_eq!(permission.actions[0].target, "rm -rf build");
}

#[test]
fn brief_and_full_agree_on_joined_commands() {
    let (_folder, worktree) = worktree();
    let picks = proptest::collection::vec((0..PARTS.len(), 0..JOINERS.len()), 1..6);
    proptest!(ProptestConfig::with_cases(64), |(picks in picks)| {
        let mut command = String::new();
        for (index, (part, joiner)) in picks.iter().enumerate() {
            if index > 0 {
                command.push_str(JOINERS[*joiner]);
            }
            command.push_str(PARTS[*part]);
        }
        let (outcomes, full_log, brief_log) = run_both(&lines_for(&[command], &worktree), &worktree);
        for (full, brief) in &outcomes {
            prop_assert_eq!(full, brief);
        }
        prop_assert_eq!(full_log, brief_log);
    });
}
