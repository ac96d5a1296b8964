//! Turns a permission request into the actions it would allow, each with a
//! category, a scope and a target the policy can match.

use crate::decision::{Action, Category, Scope};
use crate::events::permission::{PatchFile, PatchFiles};
use crate::events::{PermissionRequest, ToolCall};
use crate::hazards;
use crate::paths::{self, CachedDisk};
use crate::shell::{self, Effect, ShellContext, SubCommand};
use std::path::{Path, PathBuf};

/// Maximum length of a shell command analysed, in bytes. A longer one is
/// opaque, because parsing unbounded input inside the event handler would
/// stall the monitor. An agent's commands are rarely over a few hundred bytes.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// Maximum number of files of one file request that get their own action.
/// Each path costs file-system lookups inside the event handler, so the
/// files past this count become one opaque action, never auto-approved.
/// The limit is an estimate with a wide margin: a patch by an agent
/// usually touches a few dozen files at most.
pub const MAX_FILE_TARGETS: usize = 1024;

/// The job's facts that classification needs besides the request.
#[derive(Debug, Clone, PartialEq)]
pub struct JobContext {
    /// Absolute, normalised worktree path with symlinks resolved.
    pub worktree: PathBuf,
    /// The agent's home directory, for `~` and `$HOME`.
    pub home: Option<PathBuf>,
}

/// Tools whose `external_directory` requests are about reading files.
const READ_TOOLS: [&str; 4] = ["read", "glob", "grep", "list"];
/// Permissions OpenCode requests that fall outside the file, shell, network
/// and MCP categories. OpenCode 1.18.33 uses all of these but `todoread`,
/// which earlier versions requested: in requests, or for `plan_enter` and
/// `plan_exit` in its agents' rules. `workflow_tool_approval` comes from its
/// GitLab workflow provider and approves a list of tools for the session.
/// Names with `_` must be here, or they pass for MCP tools.
const OTHER_PERMISSIONS: [&str; 10] = [
    "task",
    "skill",
    "todowrite",
    "todoread",
    "doom_loop",
    "lsp",
    "question",
    "plan_enter",
    "plan_exit",
    "workflow_tool_approval",
];

/// Classifies a request. `tool_call` is the tool call the request came from,
/// when the event stream showed it first.
pub fn classify(request: &PermissionRequest, tool_call: Option<&ToolCall>, job: &JobContext) -> Vec<Action> {
    // OpenCode spells its permissions in lower case; another spelling of a
    // built-in name must not pass for an MCP tool.
    let lowered = request.permission.to_ascii_lowercase();
    let permission = lowered.as_str();
    match permission {
        "edit" | "write" | "patch" | "multiedit" | "apply_patch" => file_actions(request, Category::FileEdit, job),
        "read" | "list" | "glob" | "grep" => file_actions(request, Category::FileRead, job),
        "external_directory" => external_directory_actions(request, tool_call, job),
        "bash" => shell_actions(&bash_command(request), shell_cwd(tool_call, job), job),
        "webfetch" => network_actions(request, "url"),
        "websearch" | "codesearch" => network_actions(request, "query"),
        _ if OTHER_PERMISSIONS.contains(&permission) => vec![other_action(request)],
        // MCP tools are named `<server>_<tool>`; a name without a server
        // prefix is not an MCP tool.
        _ if permission.contains('_') => vec![mcp_action(request)],
        _ => vec![other_action(request)],
    }
}

fn file_actions(request: &PermissionRequest, category: Category, job: &JobContext) -> Vec<Action> {
    let targets = file_targets(request);
    if targets.is_empty() {
        let reason = format!("the {} request names no file", request.permission);
        return vec![opaque_action(category, Some(Scope::OutsideWorktree), &request.permission, reason)];
    }
    let checked = &targets[..targets.len().min(MAX_FILE_TARGETS)];
    let mut actions: Vec<Action> = checked.iter().map(|target| file_action(category, target, &job.worktree, job)).collect();
    if patch_files_unreadable(request) {
        // The patterns may leave out files the patch writes, such as the
        // target of a move, so no action of this request may be approved.
        let reason = format!("the {} request lists its files in a shape the governor cannot read", request.permission);
        for action in &mut actions {
            action.opaque.get_or_insert_with(|| reason.clone());
        }
    }
    if targets.len() > MAX_FILE_TARGETS {
        let reason = format!("the request names {} files, more than the {MAX_FILE_TARGETS} checked", targets.len());
        actions.push(opaque_action(category, Some(Scope::OutsideWorktree), &request.permission, reason));
    }
    actions
}

/// Lists the files a file request touches.
///
/// A multi-file `apply_patch` request sets `metadata.filepath` to its
/// relative paths joined by ", ", which is no path at all. Its files come
/// from `metadata.files` (each path and the path it moves to), else from
/// `patterns` whenever there are several or `files` is unreadable. A
/// single-file request prefers the absolute `metadata.filepath` (`filePath`
/// in the legacy shape) over the worktree-relative patterns.
fn file_targets(request: &PermissionRequest) -> Vec<String> {
    let patterns = || request.patterns.iter().filter(|pattern| !pattern.is_empty()).cloned().collect();
    match &request.metadata.files {
        Some(PatchFiles::Listed(files)) if !files.is_empty() => return patch_targets(files),
        Some(_) => return patterns(),
        None if request.patterns.len() > 1 => return patterns(),
        None => {}
    }
    let filepath = request.metadata_str("filepath").or_else(|| request.metadata_str("filePath"));
    match filepath {
        Some(filepath) if !filepath.is_empty() => vec![filepath.to_string()],
        _ => patterns(),
    }
}

/// Tells whether the request has a `files` list that names no file the
/// classifier can use. OpenCode 1.18.33 rejects an empty patch before it
/// requests anything, so an empty list is as unexpected as a mistyped one.
fn patch_files_unreadable(request: &PermissionRequest) -> bool {
    match &request.metadata.files {
        Some(PatchFiles::Listed(files)) => files.is_empty(),
        Some(PatchFiles::Unreadable) => true,
        None => false,
    }
}

/// Returns each patched file, followed by the file it moves to, if any.
fn patch_targets(files: &[PatchFile]) -> Vec<String> {
    let mut targets = Vec::with_capacity(files.len());
    for file in files {
        targets.push(file.file_path.clone());
        targets.extend(file.move_path.clone());
    }
    targets
}

/// Builds the action of a file request for `target`, resolved against `cwd`.
pub fn file_action(category: Category, target: &str, cwd: &Path, job: &JobContext) -> Action {
    let resolved = paths::locate_resolved(target, cwd, job.home.as_deref(), &job.worktree);
    let opaque = match category {
        Category::FileEdit => hazards::write_hazard_resolved(&resolved),
        _ => None,
    };
    Action {
        category,
        scope: Some(scope_of(&resolved.path, job)),
        target: resolved.path.to_string_lossy().into_owned(),
        command: None,
        opaque,
    }
}

fn resolved_path(target: &str, cwd: &Path, job: &JobContext) -> PathBuf {
    paths::locate(target, cwd, job.home.as_deref(), &job.worktree)
}

fn scope_of(path: &Path, job: &JobContext) -> Scope {
    if paths::is_inside(path, &job.worktree) {
        Scope::InsideWorktree
    } else {
        Scope::OutsideWorktree
    }
}

/// OpenCode requests `external_directory` before a tool touches a path outside
/// the project. The tool call decides the category; without it the request is
/// taken as an edit, the strictest file category.
fn external_directory_actions(request: &PermissionRequest, tool_call: Option<&ToolCall>, job: &JobContext) -> Vec<Action> {
    // OpenCode 1.18 puts the command in the metadata of a shell tool's
    // request. The tool call's input is the fallback for versions that do not.
    if let Some(command) = request.metadata_str("command") {
        return shell_actions(command, shell_cwd(tool_call, job), job);
    }
    let tool = tool_call.map(|call| call.tool.as_str()).unwrap_or("");
    if tool == "bash" {
        let command = tool_call.and_then(|call| call.input.command.as_deref());
        return shell_actions(command.unwrap_or(""), shell_cwd(tool_call, job), job);
    }

    let category = if READ_TOOLS.contains(&tool) { Category::FileRead } else { Category::FileEdit };
    let mut targets: Vec<String> = Vec::new();
    for key in ["filepath", "filePath", "parentDir"] {
        if let Some(path) = request.metadata_str(key) {
            targets.push(path.to_string());
            break;
        }
    }
    if targets.is_empty() {
        targets = request.patterns.iter().map(|pattern| strip_glob_suffix(pattern)).collect();
    }
    if targets.is_empty() {
        let reason = "the external_directory request names no path".to_string();
        return vec![opaque_action(category, Some(Scope::OutsideWorktree), &request.permission, reason)];
    }

    targets.iter().map(|target| file_action(category, target, &job.worktree, job)).collect()
}

/// Turns `/outside/dir/*` into `/outside/dir`: OpenCode lists the directory
/// with a trailing wildcard.
fn strip_glob_suffix(pattern: &str) -> String {
    let trimmed = pattern.trim_end_matches('*').trim_end_matches('/');
    if trimmed.is_empty() { pattern.to_string() } else { trimmed.to_string() }
}

/// Reads the command from `metadata.command`, then the legacy title, then the
/// patterns joined as a sequence.
fn bash_command(request: &PermissionRequest) -> String {
    if let Some(command) = request.metadata_str("command") {
        return command.to_string();
    }
    if request.shape == crate::events::PermissionShape::Updated {
        if let Some(title) = &request.title {
            return title.clone();
        }
    }
    request.patterns.join("\n")
}

/// Returns the shell tool's `workdir` input, else the worktree.
fn shell_cwd(tool_call: Option<&ToolCall>, job: &JobContext) -> PathBuf {
    let workdir = tool_call.and_then(|call| call.input.workdir.as_deref());
    match workdir {
        Some(dir) if !dir.is_empty() => resolved_path(dir, &job.worktree, job),
        _ => job.worktree.clone(),
    }
}

/// Analyses a shell command into one action per sub-command and one per
/// effect that another category governs.
pub fn shell_actions(command: &str, cwd: PathBuf, job: &JobContext) -> Vec<Action> {
    let cwd_scope = scope_of(&cwd, job);
    if command.trim().is_empty() {
        let reason = "the shell request has no command".to_string();
        return vec![opaque_action(Category::ShellCommand, Some(cwd_scope), command, reason)];
    }
    if command.len() > MAX_COMMAND_BYTES {
        let reason = format!("the command is {} bytes, more than the {MAX_COMMAND_BYTES} analysed", command.len());
        return vec![opaque_action(Category::ShellCommand, Some(cwd_scope), &truncate(command), reason)];
    }

    let context = ShellContext { cwd, home: job.home.clone(), worktree: job.worktree.clone() };
    let (analysis, lookups) = shell::analyse_keeping_lookups(command, &context);
    let mut actions = Vec::new();
    if let Some(reason) = hazards::command_hazard(command) {
        actions.push(opaque_action(Category::ShellCommand, Some(cwd_scope), command, reason));
    }
    for reason in &analysis.opaque {
        actions.push(opaque_action(Category::ShellCommand, Some(cwd_scope), command, reason.clone()));
    }
    for sub_command in analysis.sub_commands {
        push_sub_command_actions(sub_command, job, &lookups, &mut actions);
    }
    if actions.is_empty() {
        let reason = "the shell analysis found no command to run".to_string();
        actions.push(opaque_action(Category::ShellCommand, Some(cwd_scope), command, reason));
    }
    actions
}

/// Wrappers that run their command as another user, usually root. What such
/// a command may touch is beyond the worktree's file permissions, so it is
/// never approved without a person.
const PRIVILEGE_WRAPPERS: [&str; 5] = ["sudo", "doas", "su", "pkexec", "run0"];

fn push_sub_command_actions(sub_command: SubCommand, job: &JobContext, lookups: &CachedDisk, actions: &mut Vec<Action>) {
    let opaque = sub_command.effects.iter().find_map(|effect| match effect {
        Effect::Opaque { reason } => Some(reason.clone()),
        Effect::Runs { program } if PRIVILEGE_WRAPPERS.contains(&program.as_str()) => {
            Some(format!("runs with elevated privileges through {program}"))
        }
        _ => None,
    });
    let opaque = opaque.or_else(|| hazards::sub_command_hazard(&sub_command));

    // The sub-command's own action goes first in the list. It is built last,
    // so that it can take the sub-command instead of a copy.
    let own_index = actions.len();
    for effect in &sub_command.effects {
        if let Some(action) = effect_action(effect, &sub_command, job, lookups) {
            actions.push(action);
        }
    }
    let own = Action {
        category: Category::ShellCommand,
        scope: Some(scope_of(&sub_command.cwd, job)),
        target: sub_command.text.clone(),
        command: Some(sub_command),
        opaque,
    };
    actions.insert(own_index, own);
}

fn effect_action(effect: &Effect, sub_command: &SubCommand, job: &JobContext, lookups: &CachedDisk) -> Option<Action> {
    // A file the analysis saw missing has no other hard links.
    let write_hazard = |path: &Path| {
        hazards::write_hazard_with(path, || !lookups.saw_missing(path) && hazards::has_other_hard_links(path))
    };
    let path_action = |category: Category, path: &Path| Action {
        category,
        scope: Some(scope_of(path, job)),
        target: path.to_string_lossy().into_owned(),
        command: None,
        opaque: if category == Category::FileEdit { write_hazard(path) } else { None },
    };
    match effect {
        Effect::WritesFile { path } => Some(path_action(Category::FileEdit, path)),
        Effect::ReadsFile { path } => Some(path_action(Category::FileRead, path)),
        Effect::Network { target } => Some(Action {
            category: Category::NetworkAccess,
            scope: None,
            target: target.clone(),
            command: Some(sub_command.clone()),
            opaque: hazards::network_hazard(target),
        }),
        Effect::InstallsPackages { .. } => Some(Action {
            category: Category::InstallPackages,
            scope: None,
            target: sub_command.text.clone(),
            command: Some(sub_command.clone()),
            opaque: None,
        }),
        Effect::Runs { .. } | Effect::ChangesDirectory { .. } | Effect::Opaque { .. } => None,
    }
}

fn network_actions(request: &PermissionRequest, metadata_key: &str) -> Vec<Action> {
    let target = request
        .metadata_str(metadata_key)
        .map(str::to_string)
        .or_else(|| request.patterns.first().cloned())
        .unwrap_or_default();
    if target.is_empty() {
        let reason = format!("the {} request names no target", request.permission);
        return vec![opaque_action(Category::NetworkAccess, None, "", reason)];
    }
    vec![network_action(&target)]
}

/// Builds the action of reaching `target`, a URL or host.
pub fn network_action(target: &str) -> Action {
    let opaque = hazards::network_hazard(target);
    Action { category: Category::NetworkAccess, scope: None, target: target.to_string(), command: None, opaque }
}

fn other_action(request: &PermissionRequest) -> Action {
    let target = match request.patterns.first() {
        Some(pattern) => format!("{} {pattern}", request.permission),
        None => request.permission.clone(),
    };
    Action { category: Category::Other, scope: None, target, command: None, opaque: None }
}

/// Classifies a tool named on its own, as `explain --mcp` names one: an
/// MCP tool, unless the name is one of OpenCode's own permissions or has no
/// server prefix, as [`classify`] decides for a request.
pub fn tool_action(name: &str) -> Action {
    let lowered = name.to_ascii_lowercase();
    let category = if OTHER_PERMISSIONS.contains(&lowered.as_str()) || !lowered.contains('_') {
        Category::Other
    } else {
        Category::McpTools
    };
    Action { category, scope: None, target: name.to_string(), command: None, opaque: None }
}

/// Any permission OpenCode's built-in tools do not ask for is an MCP or
/// plugin tool, named `<server>_<tool>`.
fn mcp_action(request: &PermissionRequest) -> Action {
    Action { category: Category::McpTools, scope: None, target: request.permission.clone(), command: None, opaque: None }
}

fn opaque_action(category: Category, scope: Option<Scope>, target: &str, reason: String) -> Action {
    Action { category, scope, target: target.to_string(), command: None, opaque: Some(reason) }
}

fn truncate(text: &str) -> String {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{parse_event, Event, ToolInput};
    use serde_json::{json, Value};

    fn job() -> JobContext {
        JobContext { worktree: PathBuf::from("/w/job"), home: Some(PathBuf::from("/home/agent")) }
    }

    fn request(event_type: &str, properties: Value) -> PermissionRequest {
        match parse_event(&json!({"type": event_type, "properties": properties})) {
            Ok(Event::Permission(request)) => request,
            other => panic!("not a permission request: {other:?}"),
        }
    }

    fn asked(permission: &str, patterns: Value, metadata: Value) -> PermissionRequest {
        let properties = json!({"id": "per_1", "sessionID": "ses_1", "permission": permission,
            "patterns": patterns, "metadata": metadata, "always": []});
        request("permission.asked", properties)
    }

    fn tool_call(tool: &str, input: Value) -> ToolCall {
        let input = ToolInput {
            command: input.get("command").and_then(Value::as_str).map(str::to_string),
            workdir: input.get("workdir").and_then(Value::as_str).map(str::to_string),
        };
        ToolCall { session_id: "ses_1".into(), message_id: "msg_1".into(), call_id: "call_1".into(), tool: tool.into(), input }
    }

    /// Reduces actions to (category, scope, target) for whole-list comparisons.
    fn summary(actions: &[Action]) -> Vec<(Category, Option<Scope>, String)> {
        actions.iter().map(|action| (action.category, action.scope, action.target.clone())).collect()
    }

    const INSIDE: Option<Scope> = Some(Scope::InsideWorktree);
    const OUTSIDE: Option<Scope> = Some(Scope::OutsideWorktree);

    #[test]
    fn edit_uses_absolute_filepath() {
        let request = asked("edit", json!(["src/a.ts"]), json!({"filepath": "/w/job/src/a.ts", "diff": "..."}));
        let actions = classify(&request, None, &job());
        assert_eq!(summary(&actions), vec![(Category::FileEdit, INSIDE, "/w/job/src/a.ts".to_string())]);
    }

    #[test]
    fn edit_without_filepath_resolves_patterns() {
        let request = asked("edit", json!(["../job-2/a.ts"]), json!({}));
        let actions = classify(&request, None, &job());
        assert_eq!(summary(&actions), vec![(Category::FileEdit, OUTSIDE, "/w/job-2/a.ts".to_string())]);
    }

    /// Builds an `apply_patch` edit request as OpenCode 1.18.33 sends it.
    /// Each file is `(relative path, move target)`.
    fn patch_request(files: &[(&str, Option<&str>)]) -> PermissionRequest {
        let relative: Vec<&str> = files.iter().map(|(path, _)| *path).collect();
        let entries: Vec<Value> = files
            .iter()
            .map(|(path, move_to)| {
                let mut entry = json!({"filePath": format!("/w/job/{path}"), "relativePath": move_to.unwrap_or(path),
                    "type": if move_to.is_some() { "move" } else { "update" }, "patch": "...", "additions": 1, "deletions": 1});
                if let Some(move_to) = move_to {
                    entry["movePath"] = json!(format!("/w/job/{move_to}"));
                }
                entry
            })
            .collect();
        let metadata = json!({"filepath": relative.join(", "), "diff": "...", "files": entries});
        asked("edit", json!(relative), metadata)
    }

    fn inside(path: &str) -> (Category, Option<Scope>, String) {
        (Category::FileEdit, INSIDE, format!("/w/job/{path}"))
    }

    #[test]
    fn patch_lists_every_file() {
        let request = patch_request(&[("src/a.ts", None), (".env", None)]);
        let actions = classify(&request, None, &job());
        assert_eq!(summary(&actions), vec![inside("src/a.ts"), inside(".env")]);
    }

    #[test]
    fn patch_lists_move_targets() {
        let request = patch_request(&[("src/a.ts", Some(".git/hooks/pre-commit")), ("src/b.ts", Some("../b.ts"))]);
        let actions = classify(&request, None, &job());
        let outside = (Category::FileEdit, OUTSIDE, "/w/b.ts".to_string());
        let expected = vec![inside("src/a.ts"), inside(".git/hooks/pre-commit"), inside("src/b.ts"), outside];
        assert_eq!(summary(&actions), expected);
        assert!(actions[1].opaque.is_some(), "a write into .git/hooks must be held: {actions:?}");
    }

    #[test]
    fn patch_without_files_uses_each_pattern() {
        let metadata = json!({"filepath": "src/a.ts, ../b.ts", "diff": "..."});
        let request = asked("edit", json!(["src/a.ts", "../b.ts"]), metadata);
        let actions = classify(&request, None, &job());
        let outside = (Category::FileEdit, OUTSIDE, "/w/b.ts".to_string());
        assert_eq!(summary(&actions), vec![inside("src/a.ts"), outside]);
    }

    #[test]
    fn patch_of_one_file_uses_its_absolute_path() {
        let request = patch_request(&[("src/a.ts", None)]);
        let actions = classify(&request, None, &job());
        assert_eq!(summary(&actions), vec![inside("src/a.ts")]);
    }

    #[test]
    fn unreadable_patch_files_are_opaque() {
        let entry = |fields: Value| json!([fields]);
        let cases = [
            ("a string", json!("src/a.ts")),
            ("an object", json!({"filePath": "/w/job/src/a.ts"})),
            ("a list of strings", json!(["/w/job/src/a.ts"])),
            ("no filePath", entry(json!({"relativePath": "src/a.ts"}))),
            ("an empty filePath", entry(json!({"filePath": ""}))),
            ("a numeric filePath", entry(json!({"filePath": 7}))),
            ("an empty movePath", entry(json!({"filePath": "/w/job/a", "movePath": ""}))),
            ("an object movePath", entry(json!({"filePath": "/w/job/a", "movePath": {"path": ".env"}}))),
        ];
        for (shape, files) in cases {
            let metadata = json!({"filepath": "src/a.ts", "files": files});
            let actions = classify(&asked("edit", json!(["src/a.ts"]), metadata), None, &job());
            assert_eq!(summary(&actions), vec![inside("src/a.ts")], "files as {shape}");
            assert!(actions[0].opaque.is_some(), "files as {shape}: {actions:?}");
        }
    }

    #[test]
    fn empty_patch_files_use_held_patterns() {
        let metadata = json!({"filepath": "src/a.ts", "files": []});
        let actions = classify(&asked("edit", json!(["src/a.ts"]), metadata), None, &job());
        assert_eq!(summary(&actions), vec![inside("src/a.ts")]);
        assert!(actions[0].opaque.is_some(), "{actions:?}");
    }

    #[test]
    fn patch_files_past_limit_are_opaque() {
        let paths: Vec<String> = (0..=MAX_FILE_TARGETS).map(|index| format!("src/f{index}.ts")).collect();
        let files: Vec<(&str, Option<&str>)> = paths.iter().map(|path| (path.as_str(), None)).collect();
        let actions = classify(&patch_request(&files), None, &job());
        assert_eq!(actions.len(), MAX_FILE_TARGETS + 1);
        assert!(actions[..MAX_FILE_TARGETS].iter().all(|action| action.opaque.is_none()));
        assert_eq!(actions[MAX_FILE_TARGETS - 1].target, format!("/w/job/src/f{}.ts", MAX_FILE_TARGETS - 1));
        assert!(actions[MAX_FILE_TARGETS].opaque.is_some(), "{:?}", actions[MAX_FILE_TARGETS]);
    }

    #[test]
    fn null_move_path_is_no_move() {
        let metadata = json!({"filepath": "src/a.ts", "files": [{"filePath": "/w/job/src/a.ts", "movePath": null}]});
        let actions = classify(&asked("edit", json!(["src/a.ts"]), metadata), None, &job());
        assert_eq!(summary(&actions), vec![inside("src/a.ts")]);
        assert!(actions[0].opaque.is_none());
    }

    #[test]
    fn edit_without_any_path_is_opaque() {
        let request = asked("edit", json!([]), json!({}));
        let actions = classify(&request, None, &job());
        assert_eq!(actions.len(), 1);
        assert!(actions[0].opaque.is_some());
    }

    #[test]
    fn external_directory_of_write_is_edit() {
        let metadata = json!({"filepath": "/w/outside.txt", "parentDir": "/w"});
        let request = asked("external_directory", json!(["/w/*"]), metadata);
        let call = tool_call("write", json!({"filePath": "../outside.txt"}));
        let actions = classify(&request, Some(&call), &job());
        assert_eq!(summary(&actions), vec![(Category::FileEdit, OUTSIDE, "/w/outside.txt".to_string())]);
    }

    #[test]
    fn external_directory_of_read_is_read() {
        let request = asked("external_directory", json!(["/etc/*"]), json!({"filepath": "/etc/hosts"}));
        let call = tool_call("read", json!({"filePath": "/etc/hosts"}));
        let actions = classify(&request, Some(&call), &job());
        assert_eq!(summary(&actions), vec![(Category::FileRead, OUTSIDE, "/etc/hosts".to_string())]);
    }

    #[test]
    fn external_directory_without_tool_is_edit() {
        let request = asked("external_directory", json!(["/srv/data/*"]), json!({}));
        let actions = classify(&request, None, &job());
        assert_eq!(summary(&actions), vec![(Category::FileEdit, OUTSIDE, "/srv/data".to_string())]);
    }

    #[test]
    fn external_directory_of_shell_analyses_command() {
        let metadata = json!({"command": "cd .. && ls", "directories": ["/w"]});
        let request = asked("external_directory", json!(["/w/*"]), metadata);
        let actions = classify(&request, None, &job());
        let shell: Vec<_> = actions.iter().filter(|action| action.category == Category::ShellCommand).collect();
        assert!(!shell.is_empty());
        assert!(shell.iter().any(|action| action.scope == OUTSIDE), "{actions:?}");
    }

    #[test]
    fn bash_analyses_whole_command() {
        let metadata = json!({"command": "mkdir -p build && echo hi > build/x.txt; ls | wc -l"});
        let request = asked("bash", json!(["mkdir -p build", "echo hi", "ls", "wc -l"]), metadata);
        let actions = classify(&request, None, &job());
        let programs: Vec<_> = actions
            .iter()
            .filter_map(|action| action.command.as_ref().map(|command| command.program.clone()))
            .collect();
        assert_eq!(programs, vec!["mkdir", "echo", "ls", "wc"]);
        let writes: Vec<_> = actions.iter().filter(|action| action.category == Category::FileEdit).collect();
        assert!(writes.iter().any(|action| action.target == "/w/job/build/x.txt"), "{actions:?}");
        assert!(actions.iter().all(|action| action.scope == INSIDE || action.scope.is_none()));
    }

    #[cfg(unix)]
    #[test]
    fn writes_to_hard_links_are_held() {
        let root = std::env::temp_dir().join(format!("mcg-classify-links-{}", std::process::id()));
        let worktree = root.join("job");
        std::fs::create_dir_all(&worktree).unwrap();
        let worktree = std::fs::canonicalize(&worktree).unwrap();
        std::fs::write(worktree.join("a.txt"), "a").unwrap();
        std::fs::hard_link(worktree.join("a.txt"), worktree.join("b.txt")).unwrap();
        std::fs::write(worktree.join("plain.txt"), "p").unwrap();
        let job = JobContext { worktree: worktree.clone(), home: None };
        let held_writes = |command: &str| -> Vec<(String, bool)> {
            let actions = shell_actions(command, worktree.clone(), &job);
            let writes = actions.iter().filter(|action| action.category == Category::FileEdit);
            writes.map(|action| (action.target.replace(&*worktree.to_string_lossy(), "."), action.opaque.is_some())).collect()
        };

        let cases: &[(&str, &[(&str, bool)])] = &[
            ("echo x > b.txt", &[("./b.txt", true)]),
            ("cp plain.txt a.txt", &[("./a.txt", true)]),
            ("echo x > plain.txt", &[("./plain.txt", false)]),
            ("echo x > new.txt", &[("./new.txt", false)]),
            ("echo x > no/dir/new.txt", &[("./no/dir/new.txt", false)]),
            ("echo x > new.txt; echo y > b.txt", &[("./new.txt", false), ("./b.txt", true)]),
        ];
        for (command, expected) in cases {
            let expected: Vec<(String, bool)> = expected.iter().map(|(path, held)| (path.to_string(), *held)).collect();
            assert_eq!(held_writes(command), expected, "{command}");
        }
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn bash_uses_tool_workdir() {
        let request = asked("bash", json!(["ls"]), json!({"command": "ls"}));
        let call = tool_call("bash", json!({"command": "ls", "workdir": "/tmp"}));
        let actions = classify(&request, Some(&call), &job());
        assert_eq!(actions[0].scope, OUTSIDE);
    }

    #[test]
    fn legacy_bash_reads_title() {
        let properties = json!({"id": "per_1", "sessionID": "ses_1", "messageID": "msg_1", "type": "bash",
            "pattern": ["rm *"], "title": "rm -rf /etc", "metadata": {}, "time": {"created": 1}});
        let actions = classify(&request("permission.updated", properties), None, &job());
        assert!(actions.iter().any(|action| action.target == "/etc" && action.category == Category::FileEdit), "{actions:?}");
    }

    #[test]
    fn v2_edit_reads_resources() {
        let properties = json!({"id": "per_1", "sessionID": "ses_1", "action": "edit", "resources": ["/etc/hosts"]});
        let actions = classify(&request("permission.v2.asked", properties), None, &job());
        assert_eq!(summary(&actions), vec![(Category::FileEdit, OUTSIDE, "/etc/hosts".to_string())]);
    }

    #[test]
    fn empty_and_oversized_commands_are_opaque() {
        let empty = asked("bash", json!([]), json!({"command": "  "}));
        assert!(classify(&empty, None, &job())[0].opaque.is_some());
        let long = "a".repeat(MAX_COMMAND_BYTES + 1);
        let oversized = asked("bash", json!([]), json!({"command": long}));
        let actions = classify(&oversized, None, &job());
        assert_eq!(actions.len(), 1);
        assert!(actions[0].opaque.is_some());
        assert!(actions[0].target.len() < 300);
    }

    #[test]
    fn permission_names_map_to_categories() {
        let cases = [
            ("webfetch", json!({"url": "http://127.0.0.1:1/a"}), Category::NetworkAccess, "http://127.0.0.1:1/a"),
            ("websearch", json!({"query": "rust napi"}), Category::NetworkAccess, "rust napi"),
            ("read", json!({"filepath": "/w/job/a"}), Category::FileRead, "/w/job/a"),
            ("task", json!({}), Category::Other, "task"),
            ("doom_loop", json!({}), Category::Other, "doom_loop"),
            ("plan_enter", json!({}), Category::Other, "plan_enter"),
            ("plan_exit", json!({}), Category::Other, "plan_exit"),
            ("workflow_tool_approval", json!({"tools": []}), Category::Other, "workflow_tool_approval"),
            ("Workflow_Tool_Approval", json!({}), Category::Other, "Workflow_Tool_Approval"),
            ("github_create_issue", json!({}), Category::McpTools, "github_create_issue"),
            ("Edit", json!({"filepath": "/w/job/a"}), Category::FileEdit, "/w/job/a"),
            ("BASH", json!({"command": "echo hi"}), Category::ShellCommand, "echo hi"),
            ("custom", json!({}), Category::Other, "custom"),
        ];
        for (permission, metadata, category, target) in cases {
            let actions = classify(&asked(permission, json!([]), metadata), None, &job());
            assert_eq!(actions.len(), 1, "{permission}");
            assert_eq!(actions[0].category, category, "{permission}");
            assert_eq!(actions[0].target, target, "{permission}");
        }
    }

    /// Runs each case of `fixtures/edit-requests.json` through a governor
    /// with the case's global config and compares the decision.
    #[test]
    fn edit_request_table_decides() {
        use crate::governor::{Governor, GovernorOptions, JobRegistration};

        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/edit-requests.json");
        let table: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let cases = table["cases"].as_array().unwrap();
        assert!(cases.len() >= 15, "only {} cases", cases.len());

        let mut failures = Vec::new();
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let config = table["policies"][case["policy"].as_str().unwrap()].as_str();
            let global_config = config.map(|text| crate::policy::parse_config(text, name).unwrap());
            let mut governor = Governor::new(GovernorOptions { global_config, ..GovernorOptions::default() });
            let worktree = PathBuf::from(table["worktree"].as_str().unwrap());
            let registration = JobRegistration { job_id: "job".into(), worktree, home: Some("/home/agent".into()), ..JobRegistration::default() };
            governor.register_job(registration).unwrap();

            let event = json!({"type": case["event"], "properties": case["properties"]});
            let outcome = governor.handle_event("job", &event).unwrap();
            let Some(permission) = outcome.permission else {
                failures.push(format!("{name}: no permission outcome"));
                continue;
            };
            let (decision, category) = (permission.decision.as_str(), permission.category.as_str());
            let expected = (case["decision"].as_str().unwrap(), case["category"].as_str().unwrap());
            if (decision, category) != expected {
                failures.push(format!("{name}: expected {expected:?}, got ({decision}, {category}): {}", permission.reason));
            }
        }
        assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    }

    #[test]
    fn webfetch_without_target_is_opaque() {
        let actions = classify(&asked("webfetch", json!([]), json!({})), None, &job());
        assert!(actions[0].opaque.is_some());
    }
}
