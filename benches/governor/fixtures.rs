//! Inputs shared by the benchmarks: the two policies, a worktree on disk
//! (path resolution reads the file system), governors with a registered job,
//! and OpenCode events shaped like the captured ones.

use mc_governance::decision::{Action, Category, Scope};
use mc_governance::governor::{Governor, GovernorOptions, JobRegistration};
use mc_governance::policy::{self, CompiledPolicy, ConfigFile};
use mc_governance::shell::{self, ShellContext};
use serde_json::{json, Value};
use std::fs;
use std::path::PathBuf;
use std::sync::LazyLock;

/// The generated 200-rule plan policy, shared with the JavaScript benchmark.
pub const POLICY_200: &str = include_str!("../../bench/policy-200.json");
/// A hand-written plan policy of a few rules per category.
pub const POLICY_SMALL: &str = include_str!("../../bench/policy-small.yaml");

pub const JOB_ID: &str = "bench-job";
pub const PLAN_ID: &str = "bench-plan";
pub const SESSION_ID: &str = "ses_bench";

/// Which policy a benchmark runs against.
#[derive(Debug, Clone, Copy)]
pub enum PolicySize {
    Small,
    Rules200,
}

impl PolicySize {
    pub const ALL: [PolicySize; 2] = [PolicySize::Small, PolicySize::Rules200];

    fn text(self) -> &'static str {
        match self {
            PolicySize::Small => POLICY_SMALL,
            PolicySize::Rules200 => POLICY_200,
        }
    }
}

impl std::fmt::Display for PolicySize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PolicySize::Small => "small",
            PolicySize::Rules200 => "200_rules",
        })
    }
}

/// A worktree with a few folders under the system temp folder, created on
/// first use and left there for the next run: the folders are empty.
pub struct Workspace {
    pub worktree: PathBuf,
    pub home: PathBuf,
}

pub static WORKSPACE: LazyLock<Workspace> = LazyLock::new(|| {
    let root = std::env::temp_dir().join("mcg-bench-governor");
    let worktree = root.join("job");
    let home = root.join("home");
    for dir in ["src/app", "config", "build"] {
        fs::create_dir_all(worktree.join(dir)).expect("create the benchmark worktree");
    }
    fs::create_dir_all(&home).expect("create the benchmark home");
    let worktree = fs::canonicalize(worktree).expect("resolve the benchmark worktree");
    Workspace { worktree, home }
});

pub fn parse(size: PolicySize) -> ConfigFile {
    policy::parse_config(size.text(), &format!("bench/{size}")).expect("the benchmark policy parses")
}

pub fn compile(size: PolicySize) -> CompiledPolicy {
    let config = parse(size);
    CompiledPolicy::compile(None, Some(&config), &[], &WORKSPACE.worktree).expect("the benchmark policy compiles")
}

/// Builds a governor with one plan and one job registered under that plan.
pub fn governor(size: PolicySize) -> Governor {
    let mut governor = Governor::new(GovernorOptions::default());
    governor.register_plan(PLAN_ID, parse(size)).expect("register the benchmark plan");
    let registration = JobRegistration {
        job_id: JOB_ID.to_string(),
        plan_id: Some(PLAN_ID.to_string()),
        worktree: WORKSPACE.worktree.clone(),
        home: Some(WORKSPACE.home.clone()),
        policy: None,
        trust: None,
    };
    governor.register_job(registration).expect("register the benchmark job");
    governor
}

pub fn shell_context() -> ShellContext {
    ShellContext { cwd: WORKSPACE.worktree.clone(), home: Some(WORKSPACE.home.clone()), worktree: WORKSPACE.worktree.clone() }
}

/// The kinds of action the policy benchmarks evaluate. Each one misses
/// every rule of its category except where the name says it matches, so
/// the 200-rule policy checks all of its patterns.
#[derive(Debug, Clone, Copy)]
pub enum ActionKind {
    FileInside,
    FileOutsideMatched,
    Url,
    Host,
    Mcp,
    Shell,
}

impl ActionKind {
    pub const ALL: [ActionKind; 6] = [
        ActionKind::FileInside,
        ActionKind::FileOutsideMatched,
        ActionKind::Url,
        ActionKind::Host,
        ActionKind::Mcp,
        ActionKind::Shell,
    ];
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ActionKind::FileInside => "file_inside",
            ActionKind::FileOutsideMatched => "file_outside_matched",
            ActionKind::Url => "url",
            ActionKind::Host => "host",
            ActionKind::Mcp => "mcp",
            ActionKind::Shell => "shell",
        })
    }
}

/// Builds an action the way the classifier does, shell analysis included.
pub fn action(kind: ActionKind) -> Action {
    let worktree = &WORKSPACE.worktree;
    let simple = |category, scope, target: String| Action { category, scope, target, command: None, opaque: None };
    match kind {
        ActionKind::FileInside => {
            simple(Category::FileEdit, Some(Scope::InsideWorktree), worktree.join("src/app/main.ts").to_string_lossy().into())
        }
        ActionKind::FileOutsideMatched => {
            simple(Category::FileEdit, Some(Scope::OutsideWorktree), "/etc/service_2/app.conf".into())
        }
        ActionKind::Url => simple(Category::NetworkAccess, None, "https://docs.rs/serde/latest/serde/".into()),
        ActionKind::Host => simple(Category::NetworkAccess, None, "registry.npmjs.org".into()),
        ActionKind::Mcp => simple(Category::McpTools, None, "linear_create_issue".into()),
        ActionKind::Shell => {
            let analysis = shell::analyse("cargo test --release -p core", &shell_context());
            let sub_command = analysis.sub_commands.into_iter().next();
            Action {
                category: Category::ShellCommand,
                scope: Some(Scope::InsideWorktree),
                target: "cargo test --release -p core".into(),
                command: sub_command,
                opaque: None,
            }
        }
    }
}

/// Builds a `permission.asked` event as OpenCode 1.18 sends it.
pub fn permission_event(id: &str, permission: &str, patterns: &[&str], metadata: Value) -> Value {
    json!({
        "type": "permission.asked",
        "properties": {
            "id": id,
            "sessionID": SESSION_ID,
            "permission": permission,
            "patterns": patterns,
            "metadata": metadata,
            "always": ["*"],
            "tool": { "messageID": "msg_bench", "callID": format!("call_{id}") }
        }
    })
}

/// The permission requests of the end-to-end decision benchmarks.
#[derive(Debug, Clone, Copy)]
pub enum RequestKind {
    EditInside,
    Webfetch,
    Mcp,
    BashShort,
    Bash200,
}

impl RequestKind {
    pub const ALL: [RequestKind; 5] =
        [RequestKind::EditInside, RequestKind::Webfetch, RequestKind::Mcp, RequestKind::BashShort, RequestKind::Bash200];
}

impl std::fmt::Display for RequestKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RequestKind::EditInside => "edit_inside",
            RequestKind::Webfetch => "webfetch",
            RequestKind::Mcp => "mcp",
            RequestKind::BashShort => "bash_short",
            RequestKind::Bash200 => "bash_200_chars",
        })
    }
}

pub fn request_event(kind: RequestKind) -> Value {
    let worktree = WORKSPACE.worktree.to_string_lossy();
    match kind {
        RequestKind::EditInside => {
            let path = format!("{worktree}/src/app/main.ts");
            permission_event("per_edit", "edit", &["src/app/main.ts"], json!({ "filepath": path, "diff": "" }))
        }
        RequestKind::Webfetch => {
            let url = "https://docs.rs/serde/latest/serde/";
            permission_event("per_fetch", "webfetch", &[url], json!({ "url": url, "format": "markdown" }))
        }
        RequestKind::Mcp => permission_event("per_mcp", "linear_create_issue", &["*"], json!({})),
        RequestKind::BashShort => {
            let command = SHELL_COMMANDS[0].text;
            permission_event("per_bash", "bash", &[command], json!({ "command": command }))
        }
        RequestKind::Bash200 => {
            let command = SHELL_COMMANDS[2].text;
            permission_event("per_bash200", "bash", &[command], json!({ "command": command }))
        }
    }
}

/// A shell command with a short name for the benchmark table.
#[derive(Debug, Clone, Copy)]
pub struct NamedCommand {
    pub name: &'static str,
    pub text: &'static str,
}

impl std::fmt::Display for NamedCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} chars)", self.name, self.text.len())
    }
}

/// Shell commands by length, from one simple command to a long script.
pub const SHELL_COMMANDS: [NamedCommand; 4] = [
    NamedCommand { name: "simple", text: "ls -la src/" },
    NamedCommand {
        name: "compound",
        text: "mkdir -p build && echo hi > build/x.txt; ls | wc -l && git status --short | head -n 20",
    },
    NamedCommand {
        name: "compound",
        text: "cd src/app && npm run lint -- --fix && npm test -- --run 2>&1 | tail -n 40; \
               git diff --stat > ../../build/diff.txt && grep -rn \"TODO\" . | wc -l; cat package.json | head -5",
    },
    NamedCommand {
        name: "script",
        text: "set -e; for f in src/*.ts; do echo \"checking $f\"; npx tsc --noEmit \"$f\" || exit 1; done; \
               cd build && rm -f *.log && make -j2 all > make.log 2>&1 && tail -n 20 make.log; cd .. ; \
               git add -A && git commit -m \"build: regenerate artefacts\" --no-verify && git log --oneline | head -3; \
               find . -name '*.tmp' -type f -mtime +1 | xargs -r rm -f; export NODE_ENV=production; \
               node scripts/bundle.js --out dist/ --minify && ls -la dist/ | sort -k5 -n | tail -n 5; \
               curl -s http://127.0.0.1:4800/health | jq '.status' > build/health.txt; \
               if [ -f dist/app.js ]; then wc -c dist/app.js; else echo missing; fi; \
               cat build/health.txt build/diff.txt 2>/dev/null | tee -a build/summary.txt | wc -l; \
               sed -i 's/DEBUG=1/DEBUG=0/' config/app.env && diff -u config/app.env config/app.env.orig || true; \
               python3 -m pytest -q tests/ --maxfail=1 && echo done",
    },
];

/// Builds a `message.updated` snapshot of an assistant message. `completed`
/// marks the last snapshot, whose tokens and cost are final.
pub fn message_event(message_id: &str, output_tokens: u64, completed: bool) -> Value {
    let mut time = json!({ "created": 1_796_414_046_819u64 });
    if completed {
        time["completed"] = json!(1_796_414_047_900u64);
    }
    json!({
        "type": "message.updated",
        "properties": {
            "sessionID": SESSION_ID,
            "info": {
                "id": message_id,
                "sessionID": SESSION_ID,
                "role": "assistant",
                "parentID": "msg_user",
                "modelID": "scripted-model",
                "providerID": "scripted",
                "mode": "build",
                "agent": "build",
                "path": { "cwd": WORKSPACE.worktree.to_string_lossy(), "root": WORKSPACE.worktree.to_string_lossy() },
                "cost": 0.000_123 * output_tokens as f64,
                "tokens": {
                    "input": 1200, "output": output_tokens, "reasoning": 0,
                    "cache": { "read": 300, "write": 0 }
                },
                "time": time
            }
        }
    })
}
