//! Checks for what the shell analysis and the classifier do not model, each
//! of which makes an action opaque (never auto-approved): arithmetic and
//! array subscripts that run commands, hard links, git metadata, options that
//! send installs or traffic elsewhere, and ambiguous URLs.

use crate::paths::Resolved;
use crate::shell::SubCommand;
use std::path::{Component, Path};

/// Returns why a whole command line is opaque, if it is. Bash evaluates
/// arithmetic (`$((x))`, `((...))`, `let`) and array subscripts
/// (`printf -v 'a[$(cmd)]'`, `test -v`, `declare`, `unset`) as expressions,
/// and a `$(...)` or backtick inside them runs, even from quoted text.
pub fn command_hazard(command: &str) -> Option<String> {
    if command.contains("((") || command.contains("$[") {
        return Some("arithmetic evaluation can run commands through array subscripts".to_string());
    }
    if subscript_with_substitution(command) {
        return Some("an array subscript contains a command substitution, which bash runs".to_string());
    }
    None
}

/// Tells whether some `[...]` in the text contains `$(` or a backtick.
fn subscript_with_substitution(command: &str) -> bool {
    let mut rest = command;
    while let Some(open) = rest.find('[') {
        let after = rest.get(open + 1..).unwrap_or("");
        let inside = match after.find(']') {
            Some(close) => after.get(..close).unwrap_or(after),
            None => after,
        };
        if inside.contains("$(") || inside.contains('`') {
            return true;
        }
        rest = after;
    }
    false
}

/// Git subcommands that run programs or write where the analysis does not look.
const GIT_OPAQUE_SUBCOMMANDS: &[&str] = &[
    "bisect", "worktree", "init", "filter-branch", "submodule", "difftool", "mergetool", "daemon",
    "instaweb", "credential", "send-email", "archive", "am", "p4", "svn",
];

/// Options that name a program to run, an output file, or another server.
const GIT_OPAQUE_OPTIONS: &[&str] = &["--output", "--exec", "--open-files-in-pager", "--upload-pack", "--receive-pack"];

/// Options that send traffic through a proxy or to another address than the
/// URL names, or packages from another registry than the default one.
const REDIRECTING_OPTIONS: &[(&str, &[&str])] = &[
    ("curl", &["-x", "--proxy", "--preproxy", "--connect-to", "--resolve", "--socks4", "--socks4a", "--socks5", "--socks5-hostname"]),
    ("wget", &["-e", "--execute"]),
    ("ssh", &["-J", "-o", "-F"]),
    ("scp", &["-J", "-o", "-F", "-S"]),
    ("npm", &["--registry"]),
    ("pnpm", &["--registry"]),
    ("yarn", &["--registry"]),
    ("pip", &["-i", "--index-url", "--extra-index-url", "-f", "--find-links"]),
    ("pip3", &["-i", "--index-url", "--extra-index-url", "-f", "--find-links"]),
    ("uv", &["-i", "--index-url", "--extra-index-url", "--index"]),
    ("rsync", &["-e", "--rsh", "--rsync-path", "--backup-dir", "--log-file", "--temp-dir", "--partial-dir", "--compare-dest", "--copy-dest", "--link-dest"]),
];

/// Options of package managers that install outside the project.
const GLOBAL_INSTALL_OPTIONS: &[&str] =
    &["-g", "--global", "--prefix", "--location", "--user", "--target", "-t", "--root", "--system", "--break-system-packages"];

const PACKAGE_MANAGERS: &[&str] = &["npm", "pnpm", "yarn", "bun", "pip", "pip3", "uv", "cargo", "gem", "go", "composer"];

/// Returns why one sub-command is opaque beyond what the shell analysis found.
pub fn sub_command_hazard(command: &SubCommand) -> Option<String> {
    let program = command.program.as_str();
    let args = &command.args;

    if program == "let" {
        return Some("`let` evaluates arithmetic, which can run commands".to_string());
    }
    if program == "ln" && !args.iter().any(|arg| is_symbolic_flag(arg)) {
        return Some("a hard link can tie a worktree file to a file outside it".to_string());
    }
    if program == "tar" && args.first().is_some_and(|first| !first.starts_with('-') && first.contains('C')) {
        return Some("`tar` with a bundled C option changes directory out of sight".to_string());
    }
    if program == "git" {
        if let Some(reason) = git_hazard(args) {
            return Some(reason);
        }
    }
    if let Some((_, options)) = REDIRECTING_OPTIONS.iter().find(|(name, _)| *name == program) {
        if let Some(option) = args.iter().find(|arg| has_option(arg, options)) {
            return Some(format!("`{program} {option}` sends traffic or installs through another address"));
        }
    }
    if PACKAGE_MANAGERS.contains(&program) {
        if let Some(option) = args.iter().find(|arg| has_option(arg, GLOBAL_INSTALL_OPTIONS)) {
            return Some(format!("`{program} {option}` installs outside the worktree"));
        }
        if let Some(url) = args.iter().find(|arg| arg.contains("://") || arg.starts_with("git+")) {
            return Some(format!("`{program}` installs from the address \"{url}\""));
        }
    }
    None
}

fn is_symbolic_flag(arg: &str) -> bool {
    arg == "--symbolic" || (arg.starts_with('-') && !arg.starts_with("--") && arg.contains('s'))
}

/// Tells whether `arg` is one of `options`, alone, with `=value`, or (for a
/// short option) with its value attached (`-xhost`).
fn has_option(arg: &str, options: &[&str]) -> bool {
    options.iter().any(|option| {
        arg == *option
            || arg.strip_prefix(option).is_some_and(|rest| rest.starts_with('='))
            || (option.len() == 2 && !arg.starts_with("--") && arg.starts_with(option))
    })
}

fn git_hazard(args: &[String]) -> Option<String> {
    let subcommand = args.iter().find(|arg| !arg.starts_with('-'))?;
    if GIT_OPAQUE_SUBCOMMANDS.contains(&subcommand.as_str()) {
        return Some(format!("`git {subcommand}` runs programs or writes where the analysis does not look"));
    }
    if let Some(option) = args.iter().find(|arg| has_option(arg, GIT_OPAQUE_OPTIONS)) {
        return Some(format!("`git {subcommand} {option}` runs a program or writes a file the analysis does not see"));
    }
    let runs_commands = match subcommand.as_str() {
        "rebase" => args.iter().any(|arg| arg == "-x"),
        "grep" => args.iter().any(|arg| arg == "-O" || arg.starts_with("-O")),
        "format-patch" => args.iter().any(|arg| arg == "-o"),
        _ => false,
    };
    runs_commands.then(|| format!("`git {subcommand}` with these options runs a program or writes out of sight"))
}

/// Returns why writing `path` is opaque, if it is: git's own files (hooks
/// and config name programs git runs later), or a file with other hard links,
/// which may live outside the worktree.
pub fn write_hazard(path: &Path) -> Option<String> {
    write_hazard_with(path, || has_other_hard_links(path))
}

/// Like [`write_hazard`], for a path just resolved: the metadata the
/// resolution found answers the hard-link question without another call.
pub fn write_hazard_resolved(resolved: &Resolved) -> Option<String> {
    write_hazard_with(&resolved.path, || resolved.metadata.as_ref().is_some_and(is_linked_file))
}

/// Like [`write_hazard`], asking `has_other_links` for the hard-link check.
pub(crate) fn write_hazard_with(path: &Path, has_other_links: impl FnOnce() -> bool) -> Option<String> {
    if is_git_program_setting(path) {
        return Some(format!("writing {} changes git hooks, config or pointers to them, which name programs git runs", path.display()));
    }
    if has_other_links() {
        return Some(format!("{} has other hard links, which may be outside the worktree", path.display()));
    }
    None
}

/// Files in a `.git` folder that point git at other settings or objects:
/// another git directory with its own hooks and config, or attributes that
/// pick the config's filter and diff programs.
const GIT_POINTERS: &[&str] = &["commondir", "gitdir", "alternates", "attributes"];

/// Tells whether `path` is a git hook, config file or pointer inside a
/// `.git` folder, or a `.git` file or folder itself (a worktree's `.git`
/// file names its git directory).
fn is_git_program_setting(path: &Path) -> bool {
    let names: Vec<&std::ffi::OsStr> = path
        .components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(name),
            _ => None,
        })
        .collect();
    let Some(git) = names.iter().position(|name| *name == ".git") else {
        return false;
    };
    let inside = names.get(git + 1..).unwrap_or_default();
    let Some(last) = inside.last().and_then(|name| name.to_str()) else {
        return true;
    };
    let is_config = last == "config" || last.starts_with("config.");
    inside.iter().any(|name| *name == "hooks") || is_config || GIT_POINTERS.contains(&last)
}

pub(crate) fn has_other_hard_links(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|metadata| is_linked_file(&metadata))
}

#[cfg(unix)]
fn is_linked_file(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    metadata.is_file() && metadata.nlink() > 1
}

#[cfg(not(unix))]
fn is_linked_file(_metadata: &std::fs::Metadata) -> bool {
    false
}

/// Returns why a network target is opaque, if it is: clients disagree on the
/// host of a URL with a backslash, white space or control characters.
pub fn network_hazard(target: &str) -> Option<String> {
    let ambiguous = target.chars().any(|character| character == '\\' || character.is_whitespace() || character.is_control());
    ambiguous.then(|| format!("the host of \"{}\" is ambiguous", target.escape_debug()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_hazards_are_found() {
        let hazardous = [
            "printf -v 'a[$(rm -rf /tmp/x)]' x",
            "test -v 'a[`id`]'",
            "[ -v 'a[$(id)]' ]",
            "x='a[$(id)]'; echo $((x))",
            "(( x = 1 ))",
            "echo $[1+2]",
        ];
        for command in hazardous {
            assert!(command_hazard(command).is_some(), "{command}");
        }
        for command in ["ls [ab]* && echo $(date)", "git log --format=[%h]", "echo `date`"] {
            assert_eq!(command_hazard(command), None, "{command}");
        }
    }

    #[test]
    fn options_match_in_every_spelling() {
        assert!(has_option("--registry=https://x", &["--registry"]));
        assert!(has_option("--registry", &["--registry"]));
        assert!(has_option("-xproxy:8080", &["-x"]));
        assert!(!has_option("--registry-x", &["--registry"]));
        assert!(!has_option("-v", &["-x"]));
    }

    #[test]
    fn ambiguous_urls_are_found() {
        assert!(network_hazard("https://evil.example\\@registry.npmjs.org").is_some());
        assert!(network_hazard("https://a b/").is_some());
        assert_eq!(network_hazard("https://registry.npmjs.org/left-pad"), None);
    }

    #[test]
    fn git_metadata_writes_are_found() {
        assert!(write_hazard(Path::new("/w/job/.git/config")).is_some());
        assert!(write_hazard(Path::new("/w/job/.git/hooks/pre-commit")).is_some());
        assert!(write_hazard(Path::new("/w/job/.git/worktrees/a/config.worktree")).is_some());
        assert!(write_hazard(Path::new("/w/job/.git/commondir")).is_some());
        assert!(write_hazard(Path::new("/w/job/.git/objects/info/alternates")).is_some());
        assert!(write_hazard(Path::new("/w/job/.git")).is_some());
        assert_eq!(write_hazard(Path::new("/w/job/.git/COMMIT_EDITMSG")), None);
        assert_eq!(write_hazard(Path::new("/w/job/src/git.rs")), None);
        assert_eq!(write_hazard(Path::new("/w/job/src/config")), None);
    }
}
