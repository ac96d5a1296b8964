//! Config validation: every kind of diagnostic, with its position, message
//! and help, and several problems reported at once.

use std::path::Path;

use mc_governance::decision::Decision::*;
use mc_governance::diagnostic::Diagnostic;
use mc_governance::policy::{
    parse_config, parse_config_value, parse_job, CompiledPolicy, ConfigFile, DefaultSection, PolicyLayer, Rule, ScopedSection,
};

const SOURCE: &str = "policy.yaml";

fn diag(at: Option<(usize, usize)>, path: &str, message: &str, help: Option<&str>) -> Diagnostic {
    Diagnostic {
        source: SOURCE.to_string(),
        line: at.map(|(line, _)| line),
        column: at.map(|(_, column)| column),
        path: path.to_string(),
        message: message.to_string(),
        help: help.map(str::to_string),
    }
}

fn problems(text: &str) -> Vec<Diagnostic> {
    parse_config(text, SOURCE).err().unwrap_or_default()
}

fn rule(pattern: &str, decision: mc_governance::decision::Decision, index: Option<usize>) -> Rule {
    Rule { pattern: pattern.to_string(), decision, exception: false, reason: None, index }
}

#[test]
fn unknown_key_suggests_nearest() {
    let text = "permissions:\n  file_edt: deny\n  networkAcess: deny\n";
    assert_eq!(
        problems(text),
        [
            diag(Some((2, 3)), "permissions.file_edt", "unknown key \"file_edt\"", Some("did you mean \"file_edit\"?")),
            diag(Some((3, 3)), "permissions.networkAcess", "unknown key \"networkAcess\"", Some("did you mean \"networkAccess\"?")),
        ]
    );
}

#[test]
fn unknown_key_without_neighbour_lists_keys() {
    let help = "valid keys are pattern, decision, exception, reason";
    assert_eq!(
        problems("permissions:\n  other:\n    rules:\n      - { pattern: task, decision: deny, because: x }\n"),
        [diag(Some((4, 42)), "permissions.other.rules[0].because", "unknown key \"because\"", Some(help))]
    );
}

#[test]
fn invalid_decision_lists_accepted_values() {
    let text = "permissions:\n  network_access: allow\n  mcp_tools: { default: maybe }\n  other: ask_user\n";
    assert_eq!(
        problems(text),
        [
            diag(
                Some((2, 19)),
                "permissions.network_access",
                "invalid decision \"allow\"",
                Some("did you mean \"auto-approve\"? accepted values are auto-approve, ask-user, deny")
            ),
            diag(
                Some((3, 25)),
                "permissions.mcp_tools.default",
                "invalid decision \"maybe\"",
                Some("accepted values are auto-approve, ask-user, deny")
            ),
            diag(
                Some((4, 10)),
                "permissions.other",
                "invalid decision \"ask_user\"",
                Some("did you mean \"ask-user\"? accepted values are auto-approve, ask-user, deny")
            ),
        ]
    );
}

#[test]
fn wrong_types_name_what_was_found() {
    let text = "plan: 7\npermissions:\n  file_read:\n    outside_worktree: [deny]\n    rules: deny\n  shell_command: 3\njobs: []\n";
    assert_eq!(
        problems(text),
        [
            diag(Some((1, 7)), "plan", "expected a string, found number 7", None),
            diag(Some((4, 23)), "permissions.file_read.outside_worktree", "expected a decision, found a list", None),
            diag(
                Some((5, 12)),
                "permissions.file_read.rules",
                "expected a list of rules or a mapping from pattern to decision, found string \"deny\"",
                None
            ),
            diag(Some((6, 18)), "permissions.shell_command", "expected a decision or a mapping, found number 3", None),
            diag(Some((7, 7)), "jobs", "expected a mapping from job id to job settings, found a list", None),
        ]
    );
}

#[test]
fn invalid_patterns_are_reported() {
    let glob_help = "see the glob syntax of the policy documentation; escape a literal *, ?, [ or { with \\";
    let text = "permissions:\n  file_edit:\n    rules:\n      - pattern: \"src/[a-z.rs\"\n        decision: deny\n      - { pattern: \"\", decision: deny }\n  network_access:\n    rules: { \"github.com/acme\": deny }\n  file_read: { rules: { \"~bob/x\": deny } }\n";
    assert_eq!(
        problems(text),
        [
            diag(
                Some((4, 18)),
                "permissions.file_edit.rules[0].pattern",
                "invalid glob \"src/[a-z.rs\": unclosed character class; missing ']'",
                Some(glob_help)
            ),
            diag(Some((6, 20)), "permissions.file_edit.rules[1].pattern", "empty pattern", Some("write a glob such as \"**/.env\"")),
            diag(
                Some((8, 14)),
                "permissions.network_access.rules.\"github.com/acme\"",
                "invalid host pattern \"github.com/acme\": a host has no \"/\"",
                Some("to match paths, write a whole URL pattern such as \"https://github.com/org/**\"")
            ),
            diag(
                Some((9, 25)),
                "permissions.file_read.rules.\"~bob/x\"",
                "invalid path pattern \"~bob/x\": only \"~/\" is expanded",
                Some("write the absolute path of the other user's home directory")
            ),
        ]
    );
}

#[test]
fn host_patterns_with_ports_are_reported() {
    let port_help = |host: &str, pattern: &str| {
        format!("write \"{host}\" for every port, or a URL pattern such as \"https://{pattern}/**\" for this one")
    };
    let cases = [
        ("api.example.com:443", Some("host rules match the host without its port"), Some(port_help("api.example.com", "api.example.com:443"))),
        ("*.corp.example:*", Some("host rules match the host without its port"), Some(port_help("*.corp.example", "*.corp.example:*"))),
        ("\\\\[fe80::1\\\\]:8080", Some("host rules match the host without its port"), Some(port_help("\\[fe80::1\\]", "\\[fe80::1\\]:8080"))),
        (
            "fe80::1",
            Some("an IPv6 address is compared in brackets"),
            Some("write \"\\\\[fe80::1\\\\]\" (the brackets escaped, because [ ] is a glob class)".to_string()),
        ),
        ("\\\\[fe80::1\\\\]", None, None),
        ("api.example.com", None, None),
        ("https://api.example.com:443/**", None, None),
    ];
    for (pattern, message, help) in cases {
        let text = format!("permissions:\n  network_access:\n    rules: {{ \"{pattern}\": deny }}\n");
        let found = problems(&text);
        let unquoted = pattern.replace("\\\\", "\\");
        let expected: Vec<_> = message
            .map(|message| {
                let path = format!("permissions.network_access.rules.\"{pattern}\"");
                let message = format!("invalid host pattern \"{unquoted}\": {message}");
                diag(Some((3, 14)), &path, &message, help.as_deref())
            })
            .into_iter()
            .collect();
        assert_eq!(found, expected, "{pattern}");
    }
}

#[test]
fn incomplete_rules_are_reported() {
    let help = Some("write a rule as { pattern: \"**/.env\", decision: deny }");
    let text = "permissions:\n  mcp_tools:\n    rules:\n      - pattern: \"github_*\"\n      - decision: deny\n      - github_*\n";
    assert_eq!(
        problems(text),
        [
            diag(Some((4, 9)), "permissions.mcp_tools.rules[0]", "rule is missing \"decision\"", help),
            diag(Some((5, 9)), "permissions.mcp_tools.rules[1]", "rule is missing \"pattern\"", help),
            diag(Some((6, 9)), "permissions.mcp_tools.rules[2]", "expected a rule mapping, found string \"github_*\"", help),
        ]
    );
}

#[test]
fn same_key_in_two_spellings_is_reported() {
    let text = "permissions:\n  file_edit: deny\n  fileEdit: ask-user\n";
    assert_eq!(
        problems(text),
        [diag(Some((2, 3)), "permissions.file_edit", "\"fileEdit\" and \"file_edit\" set the same key", Some("keep one of them"))]
    );
}

#[test]
fn trust_level_may_not_shadow_built_in() {
    let text = "trust_levels:\n  standard: { permissions: { other: deny } }\n  team: { trust: lax }\n";
    assert_eq!(
        problems(text),
        [
            diag(
                Some((2, 3)),
                "trust_levels.standard",
                "trust level \"standard\" has the name of a built-in trust level",
                Some("choose another name; the built-in trust levels are restricted, standard, elevated")
            ),
            diag(
                Some((3, 18)),
                "trust_levels.team.trust",
                "unknown built-in trust level \"lax\"",
                Some("a trust level can start from restricted, standard, elevated")
            ),
        ]
    );
}

#[test]
fn unknown_trust_level_found_at_compile() {
    let global = parse_config("trust_levels:\n  deps: { trust: elevated }\n", "global.yaml").unwrap_or_default();
    let plan = parse_config("plan: p\ntrust: dep\njobs:\n  fix:\n    trust: restrictd\n", SOURCE).unwrap_or_default();
    let jobs: Vec<_> = plan.jobs.values().collect();
    let result = CompiledPolicy::compile(Some(&global), Some(&plan), &jobs, Path::new("/w"));
    assert_eq!(
        result.err().unwrap_or_default(),
        [
            diag(
                Some((2, 8)),
                "trust",
                "unknown trust level \"dep\"",
                Some("did you mean \"deps\"? valid trust levels are restricted, standard, elevated, deps")
            ),
            diag(
                Some((5, 12)),
                "jobs.fix.trust",
                "unknown trust level \"restrictd\"",
                Some("did you mean \"restricted\"? valid trust levels are restricted, standard, elevated, deps")
            ),
        ]
    );
}

#[test]
fn plan_may_not_define_trust_levels() {
    let plan = parse_config("trust_levels:\n  mine: {}\n", SOURCE).unwrap_or_default();
    let result = CompiledPolicy::compile(None, Some(&plan), &[], Path::new("/w"));
    let help = Some("move this section to the global config");
    assert_eq!(result.err().unwrap_or_default(), [diag(None, "trust_levels", "\"trust_levels\" is read only from the global config", help)]);
}

#[test]
fn syntax_errors_carry_parser_position() {
    let yaml = parse_config("permissions:\n  other: [deny\n", SOURCE).err().unwrap_or_default();
    let message = "invalid syntax: did not find expected ',' or ']', while parsing a flow sequence at line 2 column 10";
    assert_eq!(yaml, [diag(Some((3, 1)), "", message, None)]);
    let json = parse_config("{\n  \"permissions\": {,}\n}", "policy.json").err().unwrap_or_default();
    let expected = Diagnostic { source: "policy.json".to_string(), ..diag(Some((2, 19)), "", "invalid syntax: key must be a string", None) };
    assert_eq!(json, [expected]);
}

#[test]
fn yaml_tags_are_rejected() {
    assert_eq!(
        problems("permissions:\n  other: !decision deny\n"),
        [diag(None, "permissions.other", "unsupported yaml tag \"!decision\"", None)]
    );
}

#[test]
fn many_problems_reported_in_source_order() {
    let text = "trust: standard\npermissions:\n  fileEdit: { insideWorktree: yes, rules: { \"**/.env\": nope } }\n  network: deny\njobs:\n  fix: { budgt: {} }\n";
    let accepted = "accepted values are auto-approve, ask-user, deny";
    assert_eq!(
        problems(text),
        [
            diag(
                Some((3, 31)),
                "permissions.fileEdit.insideWorktree",
                "invalid decision \"yes\"",
                Some(&format!("did you mean \"auto-approve\"? {accepted}"))
            ),
            diag(Some((3, 56)), "permissions.fileEdit.rules.\"**/.env\"", "invalid decision \"nope\"", Some(accepted)),
            diag(
                Some((4, 3)),
                "permissions.network",
                "unknown key \"network\"",
                Some("valid keys are file_edit, file_read, shell_command, network_access, install_packages, mcp_tools, other")
            ),
            diag(Some((6, 10)), "jobs.fix.budgt", "unknown key \"budgt\"", Some("did you mean \"budget\"?")),
        ]
    );
}

#[test]
fn anchors_drop_positions_not_problems() {
    let text = "common: &d deny\npermissions:\n  other: *d\n";
    assert_eq!(
        problems(text),
        [diag(
            None,
            "common",
            "unknown key \"common\"",
            Some("valid keys are $schema, plan, trust, permissions, budget, jobs, trust_levels, pricing")
        )]
    );
}

#[test]
fn empty_documents_mean_no_settings() {
    for text in ["", "  \n", "# nothing yet\n", "{}", "---\n"] {
        let config = parse_config(text, SOURCE);
        assert_eq!(config, Ok(ConfigFile { source: SOURCE.to_string(), ..ConfigFile::default() }), "{text:?}");
    }
    assert_eq!(parse_config("{}", "policy.json").map(|config| config.permissions), Ok(PolicyLayer::default()));
}

#[test]
fn camel_case_value_reads_like_yaml() {
    let value = serde_json::json!({
        "$schema": "./schema/policy.schema.json",
        "trust": "elevated",
        "permissions": {
            "fileEdit": { "insideWorktree": "ask-user", "rules": [ { "pattern": "**/.env", "decision": "deny", "reason": "secrets" } ] },
            "networkAccess": "deny",
            "mcpTools": { "rules": { "github_*": { "decision": "auto-approve", "exception": true } } }
        }
    });
    let yaml = "trust: elevated\npermissions:\n  file_edit:\n    inside_worktree: ask-user\n    rules:\n      - { pattern: \"**/.env\", decision: deny, reason: secrets }\n  network_access: deny\n  mcp_tools:\n    rules:\n      \"github_*\": { decision: auto-approve, exception: true }\n";
    let expected = PolicyLayer {
        file_edit: ScopedSection {
            inside_worktree: Some(AskUser),
            outside_worktree: None,
            rules: vec![Rule { reason: Some("secrets".to_string()), ..rule("**/.env", Deny, Some(0)) }],
        },
        network_access: DefaultSection { default: Some(Deny), rules: Vec::new() },
        mcp_tools: DefaultSection { default: None, rules: vec![Rule { exception: true, ..rule("github_*", AutoApprove, None) }] },
        ..PolicyLayer::default()
    };
    let from_value = parse_config_value(&value, "<js>");
    assert_eq!(from_value.as_ref().map(|config| &config.permissions), Ok(&expected));
    assert_eq!(from_value.as_ref().map(|config| config.trust.as_deref()), Ok(Some("elevated")));
    assert_eq!(parse_config(yaml, SOURCE).map(|config| config.permissions), Ok(expected));
}

#[test]
fn value_diagnostics_have_paths_only() {
    let value = serde_json::json!({ "permissions": { "fileRead": { "outsideWorktree": "sometimes" } } });
    let expected = Diagnostic {
        source: "<js>".to_string(),
        ..diag(None, "permissions.fileRead.outsideWorktree", "invalid decision \"sometimes\"", Some("accepted values are auto-approve, ask-user, deny"))
    };
    assert_eq!(parse_config_value(&value, "<js>").err().unwrap_or_default(), [expected]);
}

#[test]
fn scoped_shorthand_sets_both_scopes() {
    let config = parse_config("permissions: { file_edit: ask-user }", SOURCE);
    let expected = ScopedSection { inside_worktree: Some(AskUser), outside_worktree: Some(AskUser), rules: Vec::new() };
    assert_eq!(config.map(|config| config.permissions.file_edit), Ok(expected));
}

#[test]
fn job_override_parses_alone() {
    let job = parse_job("trust: restricted\npermissions: { network_access: ask-user }\n", "<job override>");
    let summary = job.map(|job| (job.source, job.path, job.trust, job.trust_location.map(|at| (at.line, at.column)), job.permissions.network_access.default));
    assert_eq!(summary, Ok(("<job override>".to_string(), String::new(), Some("restricted".to_string()), Some((1, 8)), Some(AskUser))));
}

#[test]
fn documented_examples_parse_and_compile() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let doc = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("read {path}: {error}"));
    let examples: Vec<String> =
        doc.split("```yaml\n").skip(1).filter_map(|rest| rest.split("```").next()).map(|text| text.replace("budget: { ... }", "budget: { usd: 5 }").replace("{ ... }", "{}")).collect();
    assert_eq!(examples.len(), 4);
    for example in &examples {
        let config = parse_config(example, "docs.yaml").unwrap_or_else(|d| panic!("{d:?}"));
        let compiled = CompiledPolicy::compile(Some(&config), None, &[], Path::new("/w"));
        assert!(compiled.is_ok(), "{:?}", compiled.err());
    }
}

#[test]
fn check_config_runs_compile_checks() {
    let text = "trust: mine\njobs:\n  fix: { trust: elevatd }\ntrust_levels:\n  mine: { trust: restricted }\n";
    let as_global = mc_governance::policy::check_config(text, SOURCE, None);
    let help = "did you mean \"elevated\"? valid trust levels are restricted, standard, elevated, mine";
    assert_eq!(as_global, [diag(Some((3, 17)), "jobs.fix.trust", "unknown trust level \"elevatd\"", Some(help))]);
    let global = ConfigFile::default();
    let as_plan = mc_governance::policy::check_config(text, SOURCE, Some(&global));
    let paths: Vec<&str> = as_plan.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, ["trust_levels", "trust", "jobs.fix.trust"]);
    assert_eq!(mc_governance::policy::check_config("permissions: { other: nope }", SOURCE, None).len(), 1);
}

#[test]
fn deeply_nested_brackets_fail_fast() {
    // The YAML parser fails these too, but only after a scan that took 12 s
    // for 100,000 brackets.
    for text in ["a: ".to_string() + &"[".repeat(100_000), "{\"a\":".repeat(100_000), "a:\n  b: ".to_string() + &"{x: ".repeat(200)] {
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].message, "invalid syntax: brackets nested more than 128 levels deep");
        assert!(found[0].line.is_some() && found[0].column.is_some());
    }
    // Brackets in quotes do not count (that glob is invalid for its own
    // reason), nor do balanced ones.
    let text = format!("permissions:\n  file_edit:\n    rules:\n      \"{}\": deny\n      'src/[ab]*.ts': deny\n", "[".repeat(200));
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].message.starts_with("invalid glob"), "{found:?}");
}

#[test]
fn non_finite_numbers_are_named() {
    for (text, shown) in [("budget:\n  usd: .nan\n", ".nan"), ("budget:\n  usd: .inf\n", ".inf"), ("budget:\n  tokens: -.inf\n", "-.inf")] {
        let found = problems(text);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        assert_eq!(found[0].message, format!("\"{shown}\" is not a finite number"), "{text}");
        assert!(found[0].path.starts_with("budget."), "{found:?}");
    }
}
