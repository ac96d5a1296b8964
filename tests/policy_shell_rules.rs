//! Shell and install rules, which match through `shell::CommandPattern`.
//! These tests pass once the shell analyser's pattern matcher is in place.

use std::path::{Path, PathBuf};

use mc_governance::decision::{Action, Category, Decision, Scope};
use mc_governance::policy::{parse_config, CompiledPolicy, LayerName, Verdict};
use mc_governance::shell::SubCommand;

const PLAN: &str = "permissions:
  shell_command:
    rules:
      - { pattern: \"git push *\", decision: ask-user, reason: pushes leave the machine }
      - { pattern: \"rm -rf *\", decision: deny }
  install_packages:
    rules: { \"npm install *\": auto-approve }
";

fn policy() -> CompiledPolicy {
    let plan = parse_config(PLAN, "plan.yaml").unwrap_or_else(|d| panic!("{d:?}"));
    CompiledPolicy::compile(None, Some(&plan), &[], Path::new("/work/tree")).unwrap_or_else(|d| panic!("{d:?}"))
}

fn command(category: Category, text: &str) -> Action {
    let mut words = text.split_whitespace().map(str::to_string);
    let program = words.next().unwrap_or_default();
    let sub_command =
        SubCommand { program, args: words.collect(), cwd: PathBuf::from("/work/tree"), text: text.to_string(), effects: Vec::new() };
    let scope = (category == Category::ShellCommand).then_some(Scope::InsideWorktree);
    Action { category, scope, target: text.to_string(), command: Some(sub_command), opaque: None }
}

#[test]
fn shell_rule_overrides_inside_default() {
    let got = policy().evaluate(&command(Category::ShellCommand, "git push origin main"));
    let expected = Verdict {
        decision: Decision::AskUser,
        layer: LayerName::Plan,
        rule: "shell_command.rules[0] \"git push *\" (plan)".to_string(),
        reason: "command \"git push origin main\" matches ask-user rule \"git push *\" from the plan policy: pushes leave the machine"
            .to_string(),
    };
    assert_eq!(got, expected);
}

#[test]
fn shell_deny_rule_matches() {
    let got = policy().evaluate(&command(Category::ShellCommand, "rm -rf build"));
    assert_eq!((got.decision, got.rule.as_str()), (Decision::Deny, "shell_command.rules[1] \"rm -rf *\" (plan)"));
}

#[test]
fn unmatched_command_uses_scope_default() {
    let got = policy().evaluate(&command(Category::ShellCommand, "git status"));
    assert_eq!((got.decision, got.layer), (Decision::AutoApprove, LayerName::Default));
}

#[test]
fn install_rule_matches_command() {
    let got = policy().evaluate(&command(Category::InstallPackages, "npm install left-pad"));
    assert_eq!((got.decision, got.rule.as_str()), (Decision::AutoApprove, "install_packages.rules \"npm install *\" (plan)"));
    let pip = policy().evaluate(&command(Category::InstallPackages, "pip install requests"));
    assert_eq!((pip.decision, pip.layer), (Decision::AskUser, LayerName::Default));
}

#[test]
fn invalid_command_pattern_is_reported() {
    let text = "permissions:\n  shell_command:\n    rules:\n      - { pattern: \"git [push\", decision: deny }\n";
    let diagnostics = parse_config(text, "plan.yaml").err().unwrap_or_default();
    let found: Vec<_> = diagnostics.iter().map(|d| (d.line, d.column, d.path.as_str(), d.help.as_deref())).collect();
    let help = Some("write a program and its arguments, such as \"git push *\"");
    assert_eq!(found, [(Some(4), Some(20), "permissions.shell_command.rules[0].pattern", help)]);
    let message = diagnostics.first().map(|d| d.message.as_str()).unwrap_or_default();
    assert!(message.starts_with("invalid command pattern \"git [push\": "), "{message}");
}
