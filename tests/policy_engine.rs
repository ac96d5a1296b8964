//! Layering, trust levels, rule matching and conflict resolution of the
//! policy engine, checked through whole verdicts.

use std::path::Path;

use mc_governance::decision::{Action, Category, Decision, Scope};
use mc_governance::policy::{parse_config, parse_job, CompiledPolicy, LayerName, Verdict};

use Category::*;
use Decision::*;
use LayerName::{Default as DefaultLayer, Global, Job, Plan};

const WORKTREE: &str = "/work/tree";
const HOME: &str = "/home/dev";

/// Compiles a global config, a plan config and job overrides given as YAML.
fn policy(global: &str, plan: &str, jobs: &[&str]) -> CompiledPolicy {
    let global = parse_config(global, "global.yaml").unwrap_or_else(|d| panic!("global: {d:?}"));
    let plan = parse_config(plan, "plan.yaml").unwrap_or_else(|d| panic!("plan: {d:?}"));
    let jobs: Vec<_> = jobs.iter().map(|text| parse_job(text, "job.yaml").unwrap_or_else(|d| panic!("job: {d:?}"))).collect();
    let job_refs: Vec<_> = jobs.iter().collect();
    CompiledPolicy::compile_with_home(Some(&global), Some(&plan), &job_refs, Path::new(WORKTREE), Some(Path::new(HOME)))
        .unwrap_or_else(|d| panic!("compile: {d:?}"))
}

fn action(category: Category, scope: Option<Scope>, target: &str) -> Action {
    Action { category, scope, target: target.to_string(), command: None, opaque: None }
}

fn file(category: Category, target: &str) -> Action {
    let scope = if target.starts_with(WORKTREE) { Scope::InsideWorktree } else { Scope::OutsideWorktree };
    action(category, Some(scope), target)
}

fn verdict(decision: Decision, layer: LayerName, rule: &str, reason: &str) -> Verdict {
    Verdict { decision, layer, rule: rule.to_string(), reason: reason.to_string() }
}

#[test]
fn built_in_defaults_decide_every_scope() {
    let policy = policy("", "", &[]);
    let inside = Some(Scope::InsideWorktree);
    let outside = Some(Scope::OutsideWorktree);
    let cases = [
        (FileEdit, inside, AutoApprove, "file_edit.inside_worktree (default)"),
        (FileEdit, outside, Deny, "file_edit.outside_worktree (default)"),
        (FileRead, inside, AutoApprove, "file_read.inside_worktree (default)"),
        (FileRead, outside, AskUser, "file_read.outside_worktree (default)"),
        (ShellCommand, inside, AutoApprove, "shell_command.inside_worktree (default)"),
        (ShellCommand, outside, AskUser, "shell_command.outside_worktree (default)"),
        (NetworkAccess, None, Deny, "network_access.default (default)"),
        (InstallPackages, None, AskUser, "install_packages.default (default)"),
        (McpTools, None, AutoApprove, "mcp_tools.default (default)"),
        (Other, None, AskUser, "other.default (default)"),
    ];
    for (category, scope, decision, rule) in cases {
        let got = policy.evaluate(&action(category, scope, "x"));
        assert_eq!((got.decision, got.layer, got.rule.as_str()), (decision, DefaultLayer, rule), "{category:?} {scope:?}");
    }
}

#[test]
fn default_verdict_explains_itself() {
    let got = policy("", "", &[]).evaluate(&file(FileEdit, "/etc/hosts"));
    let reason = "no rule matches edit of /etc/hosts outside the worktree, and file_edit.outside_worktree is deny in the built-in default policy";
    assert_eq!(got, verdict(Deny, DefaultLayer, "file_edit.outside_worktree (default)", reason));
}

#[test]
fn unknown_scope_counts_as_outside() {
    let got = policy("", "", &[]).evaluate(&action(FileEdit, None, "/somewhere/file"));
    assert_eq!((got.decision, got.rule.as_str()), (Deny, "file_edit.outside_worktree (default)"));
}

#[test]
fn higher_layers_override_scope_defaults() {
    let global = "permissions: { file_read: { outside_worktree: deny }, other: deny }";
    let plan = "permissions: { file_read: { outside_worktree: ask-user } }";
    let job = "permissions: { fileRead: { outsideWorktree: auto-approve } }";
    let cases = [
        (policy(global, "", &[]), Deny, Global, "file_read.outside_worktree (global)"),
        (policy(global, plan, &[]), AskUser, Plan, "file_read.outside_worktree (plan)"),
        (policy(global, plan, &[job]), AutoApprove, Job, "file_read.outside_worktree (job)"),
    ];
    for (policy, decision, layer, rule) in cases {
        let got = policy.evaluate(&file(FileRead, "/etc/passwd"));
        assert_eq!((got.decision, got.layer, got.rule.as_str()), (decision, layer, rule));
        let other = policy.evaluate(&action(Other, None, "doom_loop"));
        assert_eq!((other.decision, other.layer), (Deny, Global), "global other survives");
    }
}

#[test]
fn job_setting_one_field_keeps_others() {
    let plan = "permissions: { file_edit: { outside_worktree: ask-user }, mcp_tools: deny }";
    let policy = policy("", plan, &["permissions: { network_access: ask-user }"]);
    let network = policy.evaluate(&action(NetworkAccess, None, "example.org"));
    assert_eq!((network.decision, network.layer), (AskUser, Job));
    let edit = policy.evaluate(&file(FileEdit, "/etc/hosts"));
    assert_eq!((edit.decision, edit.layer), (AskUser, Plan));
    let mcp = policy.evaluate(&action(McpTools, None, "github_search"));
    assert_eq!((mcp.decision, mcp.layer), (Deny, Plan));
    let inside = policy.evaluate(&file(FileEdit, "/work/tree/a.rs"));
    assert_eq!((inside.decision, inside.layer), (AutoApprove, DefaultLayer));
}

#[test]
fn later_job_sections_take_priority() {
    let first = "permissions: { network_access: ask-user, other: deny }";
    let second = "permissions: { network_access: auto-approve }";
    let policy = policy("", "", &[first, second]);
    assert_eq!(policy.evaluate(&action(NetworkAccess, None, "a.org")).decision, AutoApprove);
    assert_eq!(policy.evaluate(&action(Other, None, "task")).decision, Deny);
}

#[test]
fn built_in_trust_levels_set_every_default() {
    let inside = Some(Scope::InsideWorktree);
    let outside = Some(Scope::OutsideWorktree);
    let table = [
        (FileEdit, inside, [AutoApprove, AutoApprove, AutoApprove]),
        (FileEdit, outside, [Deny, Deny, AskUser]),
        (FileRead, inside, [AutoApprove, AutoApprove, AutoApprove]),
        (FileRead, outside, [Deny, AskUser, AskUser]),
        (ShellCommand, inside, [AskUser, AutoApprove, AutoApprove]),
        (ShellCommand, outside, [Deny, AskUser, AskUser]),
        (NetworkAccess, None, [Deny, Deny, AskUser]),
        (InstallPackages, None, [Deny, AskUser, AutoApprove]),
        (McpTools, None, [AskUser, AutoApprove, AutoApprove]),
        (Other, None, [AskUser, AskUser, AskUser]),
    ];
    // A global config that loosens everything shows that a trust level
    // replaces lower layers' defaults.
    let loose = "permissions: { file_edit: auto-approve, file_read: auto-approve, shell_command: auto-approve, \
                 network_access: auto-approve, install_packages: auto-approve, mcp_tools: auto-approve, other: auto-approve }";
    for (level_index, level) in ["restricted", "standard", "elevated"].iter().enumerate() {
        let policy = policy(loose, "", &[&format!("trust: {level}")]);
        for (category, scope, expected) in &table {
            let got = policy.evaluate(&action(*category, *scope, "x"));
            assert_eq!(Some(got.decision), expected.get(level_index).copied(), "{level} {category:?} {scope:?}");
            assert_eq!(got.layer, Job, "{level} {category:?}");
            assert!(got.rule.ends_with(&format!("(job, trust \"{level}\")")), "{}", got.rule);
        }
    }
}

#[test]
fn own_permissions_override_layer_trust() {
    let job = "trust: restricted\npermissions:\n  shell_command: { inside_worktree: auto-approve }\n";
    let policy = policy("", "", &[job]);
    let shell = policy.evaluate(&action(ShellCommand, Some(Scope::InsideWorktree), "make"));
    assert_eq!((shell.decision, shell.rule.as_str()), (AutoApprove, "shell_command.inside_worktree (job)"));
    let install = policy.evaluate(&action(InstallPackages, None, "npm i x"));
    let reason = "no rule matches package install \"npm i x\", and install_packages.default is deny in the job policy (trust level \"restricted\")";
    assert_eq!(install, verdict(Deny, Job, "install_packages.default (job, trust \"restricted\")", reason));
}

#[test]
fn user_trust_level_extends_its_base() {
    let global = "trust_levels:\n  deps:\n    description: may fetch from npm\n    trust: restricted\n    permissions:\n      install_packages: auto-approve\n      network_access: { rules: [ { pattern: registry.npmjs.org, decision: auto-approve } ] }\n";
    let policy = policy(global, "trust: deps", &[]);
    let install = policy.evaluate(&action(InstallPackages, None, "npm i left-pad"));
    assert_eq!((install.decision, install.layer, install.rule.as_str()), (AutoApprove, Plan, "install_packages.default (plan, trust \"deps\")"));
    let shell = policy.evaluate(&action(ShellCommand, Some(Scope::InsideWorktree), "ls"));
    assert_eq!((shell.decision, shell.rule.as_str()), (AskUser, "shell_command.inside_worktree (plan, trust \"deps\")"));
    let fetch = policy.evaluate(&action(NetworkAccess, None, "https://registry.npmjs.org/left-pad"));
    let reason = "network access to https://registry.npmjs.org/left-pad matches auto-approve rule \"registry.npmjs.org\" from the plan policy (trust level \"deps\")";
    assert_eq!(fetch, verdict(AutoApprove, Plan, "network_access.rules[0] \"registry.npmjs.org\" (plan, trust \"deps\")", reason));
}

#[test]
fn strictest_matching_rule_wins_across_layers() {
    let global = "permissions: { file_edit: { rules: [ { pattern: \"**/.env\", decision: deny } ] } }";
    let job = "permissions: { file_edit: { inside_worktree: auto-approve, rules: [ { pattern: \"**/*\", decision: auto-approve } ] } }";
    let got = policy(global, "", &[job]).evaluate(&file(FileEdit, "/work/tree/app/.env"));
    let reason = "edit of /work/tree/app/.env matches deny rule \"**/.env\" from the global policy";
    assert_eq!(got, verdict(Deny, Global, "file_edit.rules[0] \"**/.env\" (global)", reason));
}

#[test]
fn rule_order_does_not_change_decision() {
    let rules = ["{ pattern: \"*.key\", decision: ask-user }", "{ pattern: \"secrets/**\", decision: deny }", "{ pattern: \"**\", decision: auto-approve }"];
    let orders = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]];
    for order in orders {
        let list: Vec<&str> = order.iter().filter_map(|index| rules.get(*index).copied()).collect();
        let plan = format!("permissions: {{ file_read: {{ rules: [ {} ] }} }}", list.join(", "));
        let policy = policy("", &plan, &[]);
        assert_eq!(policy.evaluate(&file(FileRead, "/work/tree/secrets/a.key")).decision, Deny, "{order:?}");
        assert_eq!(policy.evaluate(&file(FileRead, "/work/tree/b.key")).decision, AskUser, "{order:?}");
        assert_eq!(policy.evaluate(&file(FileRead, "/work/tree/c.txt")).decision, AutoApprove, "{order:?}");
    }
}

#[test]
fn equal_rules_name_highest_layer_first_listed() {
    let global = "permissions: { other: { rules: { \"*\": deny } } }";
    let plan = "permissions: { other: { rules: [ { pattern: \"t*\", decision: deny }, { pattern: task, decision: deny } ] } }";
    let got = policy(global, plan, &[]).evaluate(&action(Other, None, "task"));
    assert_eq!((got.layer, got.rule.as_str()), (Plan, "other.rules[0] \"t*\" (plan)"));
}

#[test]
fn exception_rules_override_other_rules() {
    let plan = "permissions:\n  file_read:\n    rules:\n      - { pattern: \"**/.env*\", decision: deny }\n      - { pattern: \"**/.env.example\", decision: auto-approve, exception: true, reason: templates hold no secrets }\n";
    let policy = policy("", plan, &[]);
    let example = policy.evaluate(&file(FileRead, "/work/tree/.env.example"));
    let reason = "read of /work/tree/.env.example matches auto-approve exception rule \"**/.env.example\" from the plan policy: templates hold no secrets";
    assert_eq!(example, verdict(AutoApprove, Plan, "file_read.rules[1] \"**/.env.example\" (plan)", reason));
    assert_eq!(policy.evaluate(&file(FileRead, "/work/tree/.env")).decision, Deny);
}

#[test]
fn strictest_exception_wins_among_exceptions() {
    let global = "permissions: { mcp_tools: { default: deny, rules: [ { pattern: \"*\", decision: deny } ] } }";
    let plan = "permissions: { mcp_tools: { rules: [ { pattern: \"github_*\", decision: auto-approve, exception: true } ] } }";
    let job = "permissions: { mcp_tools: { rules: [ { pattern: github_delete_repo, decision: ask-user, exception: true } ] } }";
    let policy = policy(global, plan, &[job]);
    let delete = policy.evaluate(&action(McpTools, None, "github_delete_repo"));
    assert_eq!((delete.decision, delete.layer), (AskUser, Job));
    let search = policy.evaluate(&action(McpTools, None, "github_search"));
    assert_eq!((search.decision, search.layer), (AutoApprove, Plan));
    let other = policy.evaluate(&action(McpTools, None, "slack_post"));
    assert_eq!((other.decision, other.rule.as_str()), (Deny, "mcp_tools.rules[0] \"*\" (global)"));
}

#[test]
fn matching_rule_beats_scope_default() {
    let plan = "permissions: { mcp_tools: { default: deny, rules: { \"github_*\": auto-approve } } }";
    let policy = policy("", plan, &[]);
    let got = policy.evaluate(&action(McpTools, None, "github_create_issue"));
    let reason = "MCP tool \"github_create_issue\" matches auto-approve rule \"github_*\" from the plan policy";
    assert_eq!(got, verdict(AutoApprove, Plan, "mcp_tools.rules \"github_*\" (plan)", reason));
    assert_eq!(policy.evaluate(&action(McpTools, None, "gitlab_merge")).decision, Deny);
}

#[test]
fn path_rules_match_by_anchor() {
    let rules = "[ { pattern: \"**/.env\", decision: deny }, { pattern: \"*.pem\", decision: deny }, \
                 { pattern: \".git/**\", decision: deny }, { pattern: \"/etc/**\", decision: deny }, \
                 { pattern: \"~/.ssh\", decision: deny }, { pattern: \"node_modules\", decision: deny }, \
                 { pattern: \"src/*.rs\", decision: deny } ]";
    let plan = format!("permissions: {{ file_read: {{ inside_worktree: auto-approve, outside_worktree: auto-approve, rules: {rules} }} }}");
    let policy = policy("", &plan, &[]);
    let cases = [
        ("/work/tree/.env", Deny),
        ("/work/tree/deep/er/.env", Deny),
        ("/home/dev/other/.env", Deny),
        ("/work/tree/.envrc", AutoApprove),
        ("/work/tree/certs/server.pem", Deny),
        ("/tmp/x.pem", Deny),
        ("/work/tree/.git/config", Deny),
        ("/work/tree/sub/.git/config", AutoApprove),
        ("/other/repo/.git/config", AutoApprove),
        ("/etc/ssl/openssl.cnf", Deny),
        ("/home/dev/.ssh/id_ed25519", Deny),
        ("/home/devx/.ssh/id_ed25519", AutoApprove),
        ("/work/tree/web/node_modules/pkg/index.js", Deny),
        ("/work/tree/src/main.rs", Deny),
        ("/work/tree/src/bin/tool.rs", AutoApprove),
        ("/work/tree/README.md", AutoApprove),
    ];
    for (target, decision) in cases {
        assert_eq!(policy.evaluate(&file(FileRead, target)).decision, decision, "{target}");
    }
}

#[test]
fn network_rules_match_host_or_url() {
    let rules = "[ { pattern: registry.npmjs.org, decision: auto-approve }, { pattern: \"*.github.com\", decision: ask-user }, \
                 { pattern: \"https://github.com/acme/*\", decision: auto-approve }, { pattern: \"http://**\", decision: deny } ]";
    let plan = format!("permissions: {{ network_access: {{ default: deny, rules: {rules} }} }}");
    let policy = policy("", &plan, &[]);
    let cases = [
        ("registry.npmjs.org", AutoApprove),
        ("https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz", AutoApprove),
        ("https://REGISTRY.npmjs.org/x", AutoApprove),
        ("https://registry.npmjs.org@evil.example/x", Deny),
        ("registry.npmjs.org.evil.example", Deny),
        ("https://api.github.com/repos", AskUser),
        ("https://github.com/", Deny),
        ("https://github.com/acme/widgets", AutoApprove),
        ("https://github.com/acme/widgets/archive/main.zip", Deny),
        ("https://github.com/other/acme/x", Deny),
        ("http://registry.npmjs.org/x", Deny),
    ];
    for (target, decision) in cases {
        assert_eq!(policy.evaluate(&action(NetworkAccess, None, target)).decision, decision, "{target}");
    }
}

#[test]
fn host_rules_ignore_ports_and_brackets_match() {
    let rules = "[ { pattern: api.example.com, decision: auto-approve }, { pattern: '\\[fe80::1\\]', decision: auto-approve } ]";
    let plan = format!("permissions: {{ network_access: {{ default: deny, rules: {rules} }} }}");
    let policy = policy("", &plan, &[]);
    let cases = [
        ("api.example.com:443", AutoApprove),
        ("https://api.example.com:8443/v1", AutoApprove),
        ("http://[fe80::1]:8080/", AutoApprove),
        ("[fe80::1]:22", AutoApprove),
        ("http://[fe80::2]/", Deny),
    ];
    for (target, decision) in cases {
        assert_eq!(policy.evaluate(&action(NetworkAccess, None, target)).decision, decision, "{target}");
    }
}

#[test]
fn opaque_action_is_never_auto_approved() {
    let policy = policy("", "", &[]);
    let mut shell = action(ShellCommand, Some(Scope::InsideWorktree), "eval $CMD");
    shell.opaque = Some("eval runs text built at run time".to_string());
    let reason = "no rule matches command \"eval $CMD\" inside the worktree, and shell_command.inside_worktree is auto-approve \
                  in the built-in default policy; raised to ask-user because the action cannot be analysed: eval runs text built at run time";
    assert_eq!(policy.evaluate(&shell), verdict(AskUser, DefaultLayer, "shell_command.inside_worktree (default)", reason));
    let mut edit = file(FileEdit, "/etc/hosts");
    edit.opaque = Some("unknown".to_string());
    assert_eq!(policy.evaluate(&edit).decision, Deny);
}

#[test]
fn command_rules_need_analysed_command() {
    let plan = "permissions: { shell_command: { rules: [ { pattern: \"rm -rf *\", decision: deny } ] } }";
    let got = policy("", plan, &[]).evaluate(&action(ShellCommand, Some(Scope::InsideWorktree), "rm -rf build"));
    assert_eq!((got.decision, got.layer), (AutoApprove, DefaultLayer));
}

#[test]
fn no_configs_compile_to_default() {
    let compiled = CompiledPolicy::compile(None, None, &[], Path::new(WORKTREE));
    let got = compiled.map(|policy| policy.evaluate(&action(NetworkAccess, None, "example.org")).decision);
    assert_eq!(got, Ok(Deny));
}

#[test]
fn home_pattern_needs_home_directory() {
    let plan = parse_config("permissions: { file_edit: { rules: { \"~/.ssh/**\": deny } } }", "plan.yaml");
    let plan = plan.unwrap_or_else(|d| panic!("{d:?}"));
    let result = CompiledPolicy::compile_with_home(None, Some(&plan), &[], Path::new(WORKTREE), None);
    let diagnostics = result.err().unwrap_or_default();
    let messages: Vec<(&str, &str, Option<&str>)> =
        diagnostics.iter().map(|d| (d.path.as_str(), d.message.as_str(), d.help.as_deref())).collect();
    assert_eq!(
        messages,
        [(
            "permissions.file_edit.rules",
            "cannot expand \"~\" in \"~/.ssh/**\": the home directory is unknown",
            Some("write the absolute path, or set HOME")
        )]
    );
}
