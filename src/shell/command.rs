//! One simple command: prefix assignments, wrappers (`sudo`, `env`,
//! `timeout`, `xargs`, ...), nested shells and directory changes, then the
//! program's own effects from `programs`.

use super::arithmetic;
use super::options::{parse_options, OptionSpec};
use super::programs::{self, Site};
use super::walk::{Place, Walker};
use super::words::Word;
use super::{Effect, SubCommand};

/// A simple command after its words were expanded.
#[derive(Debug, Default)]
pub(crate) struct Invocation {
    pub assignments: Vec<(String, Word)>,
    pub words: Vec<Word>,
    pub redirect_effects: Vec<Effect>,
    /// True when a here-document or here-string feeds standard input.
    pub stdin_is_text: bool,
    pub text: String,
}

/// Environment variables that change which code a program loads or which
/// program a name runs. Setting any of them makes the command opaque.
const LOADER_VARIABLES: &[&str] = &[
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "DYLD_INSERT_LIBRARIES",
    "DYLD_LIBRARY_PATH",
    "DYLD_FRAMEWORK_PATH",
    "NODE_OPTIONS",
    "NODE_PATH",
    "BASH_ENV",
    "ENV",
    "ZDOTDIR",
    "PROMPT_COMMAND",
    "PATH",
    "IFS",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONHOME",
    "PERL5LIB",
    "PERL5OPT",
    "RUBYLIB",
    "RUBYOPT",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_EXEC_PATH",
    "GIT_CONFIG_GLOBAL",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "SHELLOPTS",
    "BASHOPTS",
    // Commands that a program runs: bash's trace prompt under `set -x`,
    // `less`'s input filters, `man`'s pager, askpass helpers.
    "PS4",
    "LESSOPEN",
    "LESSCLOSE",
    "MANPAGER",
    "MANOPT",
    "BROWSER",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    // Options read from the environment, which can name programs to run
    // (`tar --to-command`) or code to load into the JVM or .NET.
    "TAR_OPTIONS",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "DOTNET_STARTUP_HOOKS",
    "RUSTC_WRAPPER",
    // Pagers, preprocessors and options that less, bat and gh take from
    // the environment, and the homes of configuration files.
    "LESS",
    "LESSKEY",
    "BAT_PAGER",
    "GH_PAGER",
    "CURL_HOME",
    "WGETRC",
    "HOME",
    "XDG_CONFIG_HOME",
];

/// Directories whose programs are taken to be the system's own, so
/// `/usr/bin/npm` is classified as `npm`.
const SYSTEM_DIRECTORIES: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/opt/homebrew/bin",
];

const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "busybox",
];

pub(crate) fn is_loader_variable(name: &str) -> bool {
    let base = name.split('[').next().unwrap_or(name);
    // GIT_* variables can name programs git runs (GIT_EXTERNAL_DIFF, GIT_PAGER)
    // or inject config (GIT_CONFIG_COUNT); proxy variables redirect traffic
    // past host rules; CDPATH changes where `cd` leads.
    LOADER_VARIABLES.contains(&base)
        || base.starts_with("LD_")
        || base.starts_with("DYLD_")
        || base.starts_with("GIT_")
        || base == "CDPATH"
        || base.to_ascii_lowercase().ends_with("_proxy")
        || is_package_manager_setting(base)
}

/// Package managers read any of their settings from these variables, the
/// registry included (`npm_config_registry`, in any case), so setting one
/// can send installs and queries to another host than the analysis names.
fn is_package_manager_setting(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let go_settings = [
        "goproxy",
        "goflags",
        "gosumdb",
        "gonosumdb",
        "goinsecure",
        "goprivate",
        "gonoproxy",
    ];
    [
        "npm_config_",
        "pnpm_config_",
        "yarn_",
        "pip_",
        "uv_",
        "cargo_",
        "bun_config_",
    ]
    .iter()
    .any(|prefix| lower.starts_with(prefix))
        || go_settings.contains(&lower.as_str())
}

/// A sub-command being assembled while wrappers are removed.
struct Draft {
    effects: Vec<Effect>,
    site: Site,
    stdin_operands: bool,
}

pub(crate) fn run(walker: &mut Walker, mut invocation: Invocation, place: &mut Place) {
    if !walker.take_command() {
        return;
    }
    let mut draft = Draft {
        effects: Vec::new(),
        site: walker.site(place),
        stdin_operands: false,
    };
    if let Some(reason) = &place.unknown {
        draft.effects.push(Effect::Opaque {
            reason: reason.clone(),
        });
    }
    for (name, _) in &invocation.assignments {
        assignment_effect(name, &mut draft.effects);
    }
    if invocation.words.is_empty() {
        run_assignments_only(walker, invocation, draft);
        return;
    }
    // Nested commands (`bash -c`, `find -exec`) are walked before this
    // sub-command is finished, but it starts first, so it takes this slot.
    let slot = walker.analysis.sub_commands.len();
    // `finish` reads only the text and redirections of the invocation.
    let words = std::mem::take(&mut invocation.words);
    let mut rest: &[Word] = &words;
    loop {
        let Some((first, args)) = rest.split_first() else {
            finish(walker, slot, invocation, draft, "", &[]);
            return;
        };
        if !first.known {
            draft.effects.push(Effect::Opaque {
                reason: format!("the program name `{}` is not static", first.text),
            });
            finish(walker, slot, invocation, draft, &first.text, args);
            return;
        }
        let (name, by_path) = program_name(&first.text);
        if let Some(reason) = by_path {
            draft.effects.push(Effect::Runs {
                program: name.clone(),
            });
            draft.effects.push(Effect::Opaque { reason });
            finish(walker, slot, invocation, draft, &name, args);
            return;
        }
        // `Runs` goes before the effects that unwrapping or classifying adds.
        let mark = draft.effects.len();
        let step = unwrap(
            walker,
            &name,
            args,
            &mut draft,
            place,
            invocation.stdin_is_text,
        );
        draft.effects.insert(
            mark,
            Effect::Runs {
                program: name.clone(),
            },
        );
        match step {
            Step::Wrapped(skip) => {
                rest = args.get(skip..).unwrap_or_default();
            }
            Step::Done => {
                if draft.stdin_operands && !programs::ignores_operands(&name) {
                    let reason = format!("`xargs` adds operands to `{name}` from standard input");
                    draft.effects.push(Effect::Opaque { reason });
                }
                finish(walker, slot, invocation, draft, &name, args);
                return;
            }
        }
    }
}

fn assignment_effect(name: &str, effects: &mut Vec<Effect>) {
    if is_loader_variable(name) {
        effects.push(Effect::Opaque {
            reason: format!("sets `{name}`, which changes what programs load or run"),
        });
    }
    if let Some(reason) = arithmetic::hidden_in_assignment(name) {
        effects.push(Effect::Opaque { reason });
    }
}

/// `X=1` with no command sets a shell variable for the rest of the line;
/// redirections alone (`> f`) still create or read files.
fn run_assignments_only(walker: &mut Walker, invocation: Invocation, draft: Draft) {
    for (name, _) in &invocation.assignments {
        if is_loader_variable(name) {
            walker
                .analysis
                .opaque
                .push(format!("sets `{name}` for the rest of the command line"));
        }
    }
    if draft.effects.is_empty() && invocation.redirect_effects.is_empty() {
        return;
    }
    let slot = walker.analysis.sub_commands.len();
    finish(walker, slot, invocation, draft, "", &[]);
}

fn finish(
    walker: &mut Walker,
    slot: usize,
    invocation: Invocation,
    draft: Draft,
    program: &str,
    args: &[Word],
) {
    let mut effects = draft.effects;
    if let Some(reason) = arithmetic::hidden_in_builtin(program, args) {
        effects.push(Effect::Opaque { reason });
    }
    if !program.is_empty()
        && !effects
            .iter()
            .any(|effect| matches!(effect, Effect::Runs { program: p } if p == program))
    {
        effects.push(Effect::Runs {
            program: program.to_string(),
        });
    }
    effects.extend(invocation.redirect_effects);
    let slot = slot.min(walker.analysis.sub_commands.len());
    walker.analysis.sub_commands.insert(
        slot,
        SubCommand {
            program: program.to_string(),
            args: args.iter().map(|word| word.text.clone()).collect(),
            cwd: draft.site.cwd,
            text: invocation.text,
            effects,
        },
    );
}

/// Splits a program word into its name and, for a program run by a path
/// outside the system directories, the reason it is opaque.
pub(crate) fn program_name(text: &str) -> (String, Option<String>) {
    if !text.contains('/') {
        return (text.to_string(), None);
    }
    let trimmed = text.trim_end_matches('/');
    let (directory, name) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
    if SYSTEM_DIRECTORIES.contains(&directory) {
        return (name.to_string(), None);
    }
    (
        name.to_string(),
        Some(format!("runs `{text}` by path, so its code is not known")),
    )
}

enum Step {
    /// A wrapper whose options take this many arguments; the wrapped command follows.
    Wrapped(usize),
    /// The command is complete: its effects are in the draft.
    Done,
}

fn unwrap(
    walker: &mut Walker,
    name: &str,
    args: &[Word],
    draft: &mut Draft,
    place: &mut Place,
    stdin_is_text: bool,
) -> Step {
    match name {
        "sudo" | "doas" => wrapper(args, &SUDO, draft),
        "env" => env(args, draft),
        "timeout" => {
            let spec = OptionSpec {
                short_values: "sk",
                long_values: &["signal", "kill-after"],
            };
            let parsed = parse_options(args, &spec, true);
            with_command(args, parsed.end + 1)
        }
        "nice" => {
            let spec = OptionSpec {
                short_values: "n",
                long_values: &["adjustment"],
            };
            wrapper(args, &spec, draft)
        }
        "nohup" | "builtin" | "stdbuf" | "ionice" | "time" | "command" | "exec" => {
            plain_wrapper(name, args, draft)
        }
        "xargs" => {
            let spec = OptionSpec {
                short_values: "adELInPs",
                long_values: &XARGS_LONG_VALUES,
            };
            let parsed = parse_options(args, &spec, true);
            for (option, value) in &parsed.options {
                if option == "-a" || option == "--arg-file" {
                    if let Some(value) = value {
                        programs::path_effect(
                            value,
                            &draft.site,
                            |path| Effect::ReadsFile { path },
                            &mut draft.effects,
                        );
                    }
                }
            }
            draft.stdin_operands = true;
            if parsed.end >= args.len() {
                return Step::Done;
            }
            Step::Wrapped(parsed.end)
        }
        "cd" | "pushd" | "popd" | "chdir" => {
            change_directory(walker, name, args, draft, place);
            Step::Done
        }
        _ if SHELLS.contains(&name) => {
            shell(walker, name, args, draft, place, stdin_is_text);
            Step::Done
        }
        _ => {
            programs::classify(
                walker,
                name,
                args,
                &draft.site.clone(),
                &mut draft.effects,
                place,
            );
            Step::Done
        }
    }
}

/// Options of `sudo` that take a value. Listing an option here that takes
/// none would hide the wrapped command, so `-h` (help, or host with an
/// argument) is left out: an unlisted value shows up as an unknown program.
const SUDO: OptionSpec = OptionSpec {
    short_values: "ugCDprtTU",
    long_values: &[
        "user",
        "group",
        "close-from",
        "chdir",
        "host",
        "prompt",
        "role",
        "type",
        "other-user",
    ],
};

/// `--eof`, `--replace` and `--max-lines` are missing on purpose: their
/// value is optional and only ever attached with `=`.
const XARGS_LONG_VALUES: [&str; 6] = [
    "arg-file",
    "delimiter",
    "max-args",
    "max-procs",
    "max-chars",
    "process-slot-var",
];

/// Removes a wrapper's options; the first operand is the wrapped program.
fn wrapper(args: &[Word], spec: &OptionSpec, draft: &mut Draft) -> Step {
    let parsed = parse_options(args, spec, true);
    for (option, value) in &parsed.options {
        let is_chdir = matches!(option.as_str(), "-D" | "--chdir");
        if let (true, Some(value)) = (is_chdir, value) {
            chdir_option(value, draft);
        }
        if matches!(option.as_str(), "-e" | "--edit") {
            draft.effects.push(Effect::Opaque {
                reason: "`sudo -e` edits files chosen at run time".into(),
            });
        }
        let opens_shell = matches!(option.as_str(), "-s" | "-i" | "--shell" | "--login");
        if opens_shell && parsed.end >= args.len() {
            draft.effects.push(Effect::Opaque {
                reason: format!("`{option}` opens a shell that reads commands from standard input"),
            });
        }
    }
    with_command(args, parsed.end)
}

fn with_command(args: &[Word], start: usize) -> Step {
    if start >= args.len() {
        return Step::Done;
    }
    Step::Wrapped(start)
}

/// Wrappers whose own options take no values (`nohup`, `command -p`, `exec -c`).
fn plain_wrapper(name: &str, args: &[Word], draft: &mut Draft) -> Step {
    let spec = match name {
        "exec" => OptionSpec {
            short_values: "a",
            long_values: &[],
        },
        "stdbuf" => OptionSpec {
            short_values: "ioe",
            long_values: &["input", "output", "error"],
        },
        "ionice" => OptionSpec {
            short_values: "cnpP",
            long_values: &["class", "classdata", "pid", "pgid"],
        },
        "time" => OptionSpec {
            short_values: "fo",
            long_values: &["format", "output"],
        },
        _ => OptionSpec {
            short_values: "",
            long_values: &[],
        },
    };
    let parsed = parse_options(args, &spec, true);
    for (option, value) in &parsed.options {
        if name == "command" && matches!(option.as_str(), "-v" | "-V") {
            return Step::Done;
        }
        if name == "time" && matches!(option.as_str(), "-o" | "--output") {
            if let Some(value) = value {
                programs::path_effect(
                    value,
                    &draft.site,
                    |path| Effect::WritesFile { path },
                    &mut draft.effects,
                );
            }
        }
    }
    with_command(args, parsed.end)
}

fn env(args: &[Word], draft: &mut Draft) -> Step {
    let spec = OptionSpec {
        short_values: "uCS",
        long_values: &["unset", "chdir", "split-string"],
    };
    let parsed = parse_options(args, &spec, true);
    for (option, value) in &parsed.options {
        match (option.as_str(), value) {
            ("-C" | "--chdir", Some(value)) => chdir_option(value, draft),
            ("-S" | "--split-string", _) => {
                draft.effects.push(Effect::Opaque {
                    reason: "`env -S` splits a string into a command".into(),
                });
            }
            _ => {}
        }
    }
    let mut index = parsed.end;
    while let Some(word) = args.get(index) {
        let Some((name, _)) = word.text.split_once('=') else {
            break;
        };
        if is_loader_variable(name) {
            draft.effects.push(Effect::Opaque {
                reason: format!("sets `{name}`, which changes what programs load or run"),
            });
        }
        index += 1;
    }
    with_command(args, index)
}

fn chdir_option(value: &Word, draft: &mut Draft) {
    if !value.known {
        draft.effects.push(Effect::Opaque {
            reason: format!("changes directory to `{}`, which is not static", value.text),
        });
        return;
    }
    let path = draft.site.locate(&value.text);
    draft
        .effects
        .push(Effect::ChangesDirectory { path: path.clone() });
    draft.site.cwd = path;
}

/// `cd`, `pushd` and `popd`: later sub-commands run in the new directory.
fn change_directory(
    walker: &mut Walker,
    name: &str,
    args: &[Word],
    draft: &mut Draft,
    place: &mut Place,
) {
    let spec = OptionSpec {
        short_values: "",
        long_values: &[],
    };
    let parsed = parse_options(args, &spec, true);
    let operands: Vec<&Word> = args.get(parsed.end..).unwrap_or_default().iter().collect();
    let home = walker.context.home.clone();
    let target = match (name, operands.as_slice()) {
        ("popd", _) => Err("`popd` returns to a directory from the stack".to_string()),
        ("pushd", []) => Err("`pushd` with no directory swaps the stack".to_string()),
        (_, []) => home
            .map(|home| home.to_string_lossy().into_owned())
            .ok_or_else(|| "`cd` goes to an unknown home directory".to_string()),
        (_, [word])
            if word.text == "-"
                || word.text.starts_with('+')
                || (word.text.starts_with('-') && word.text.len() > 1) =>
        {
            Err(format!(
                "`{name} {}` goes to a directory from the stack",
                word.text
            ))
        }
        (_, [word]) if word.known => Ok(word.text.clone()),
        (_, [word]) => Err(format!(
            "`{name} {}` goes to a directory that is not static",
            word.text
        )),
        _ => Err(format!("`{name}` with several operands")),
    };
    match target {
        Ok(text) => {
            let path = walker.site(place).locate(&text);
            draft
                .effects
                .push(Effect::ChangesDirectory { path: path.clone() });
            place.cwd = path;
        }
        Err(reason) => {
            draft.effects.push(Effect::Opaque {
                reason: reason.clone(),
            });
            place.unknown = Some(format!("the working directory is unknown: {reason}"));
        }
    }
}

/// `bash -c 'string'` is analysed recursively; a shell that runs a script file
/// or reads commands from standard input is opaque.
fn shell(
    walker: &mut Walker,
    name: &str,
    args: &[Word],
    draft: &mut Draft,
    place: &Place,
    stdin_is_text: bool,
) {
    let mut index = 0;
    let mut command_mode = false;
    let mut reads_file: Option<String> = None;
    let mut args = args;
    if name == "busybox" {
        match args.split_first() {
            Some((applet, rest)) if SHELLS.contains(&applet.text.as_str()) => args = rest,
            _ => {
                draft.effects.push(Effect::Opaque {
                    reason: "`busybox` runs an applet that is not analysed".into(),
                });
                return;
            }
        }
    }
    while let Some(word) = args.get(index) {
        let text = word.text.as_str();
        if text == "--" || text == "-" {
            index += 1;
            break;
        }
        if matches!(text, "--rcfile" | "--init-file" | "-o" | "-O" | "+O" | "+o") {
            if text == "--rcfile" || text == "--init-file" {
                reads_file = Some(text.to_string());
            }
            index += 2;
            continue;
        }
        let is_option = (text.starts_with('-') || text.starts_with('+')) && text.len() > 1;
        if !is_option {
            break;
        }
        if !text.starts_with("--") && text.contains('c') {
            command_mode = true;
        }
        index += 1;
    }
    let operand = args.get(index);
    let reason = match (command_mode, operand) {
        (true, Some(script)) if script.known => {
            walker.subshell(&script.text, place);
            None
        }
        (true, Some(script)) => Some(format!(
            "`{name} -c` runs `{}`, which is not static",
            script.text
        )),
        (true, None) => Some(format!("`{name} -c` without a command string")),
        (false, Some(file)) => Some(format!("`{name}` runs the script `{}`", file.text)),
        (false, None) if stdin_is_text => Some(format!("a here-document is fed to `{name}`")),
        (false, None) => Some(format!("`{name}` reads commands from standard input")),
    };
    if let Some(reason) = reason {
        draft.effects.push(Effect::Opaque { reason });
    }
    if let Some(option) = reads_file {
        draft.effects.push(Effect::Opaque {
            reason: format!("`{name} {option}` runs a startup file"),
        });
    }
}
