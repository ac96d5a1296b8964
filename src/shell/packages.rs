//! Package managers: which subcommands install packages, which run project
//! code, and which only query.

use super::options::{parse_options, OptionSpec};
use super::programs::Site;
use super::words::Word;
use super::Effect;

/// What a package manager subcommand does.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Install,
    /// Runs scripts or code from the project or a downloaded package.
    RunsCode,
    Publish,
    /// Removes packages from the project: a write of the working directory.
    Remove,
    Query,
}

/// One package manager: for each kind, the subcommands (a subcommand of two
/// words is written with a space, as in `pip install`).
struct Manager {
    name: &'static str,
    /// The kind of the bare command with no subcommand.
    bare: Option<Kind>,
    /// Kind of any subcommand not listed (`yarn build` runs a script).
    other: Option<Kind>,
    table: &'static [(Kind, &'static [&'static str])],
    registry: &'static str,
}

const NPM_INSTALL: &[&str] = &[
    "install", "i", "add", "ci", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal",
    "isntall", "update", "up", "upgrade", "udpate",
];

const MANAGERS: &[Manager] = &[
    Manager {
        name: "npm",
        bare: Some(Kind::Query),
        other: None,
        table: &[
            (Kind::Install, NPM_INSTALL),
            (
                Kind::RunsCode,
                &[
                    "run",
                    "run-script",
                    "rum",
                    "urn",
                    "test",
                    "t",
                    "tst",
                    "start",
                    "stop",
                    "restart",
                    "exec",
                    "x",
                    "rebuild",
                    "rb",
                    "explore",
                    "init",
                    "create",
                    "pack",
                ],
            ),
            (
                Kind::Publish,
                &["publish", "unpublish", "deprecate", "dist-tag"],
            ),
            (
                Kind::Remove,
                &[
                    "uninstall",
                    "remove",
                    "rm",
                    "r",
                    "un",
                    "unlink",
                    "prune",
                    "dedupe",
                ],
            ),
            (
                Kind::Query,
                &[
                    "ls",
                    "list",
                    "ll",
                    "la",
                    "view",
                    "info",
                    "show",
                    "v",
                    "outdated",
                    "audit",
                    "search",
                    "whoami",
                    "ping",
                    "help",
                    "root",
                    "bin",
                    "prefix",
                    "why",
                    "explain",
                    "fund",
                    "doctor",
                    "--version",
                    "-v",
                ],
            ),
        ],
        registry: "registry.npmjs.org",
    },
    Manager {
        name: "pnpm",
        bare: Some(Kind::Query),
        other: Some(Kind::RunsCode),
        table: &[
            (
                Kind::Install,
                &["add", "install", "i", "update", "up", "upgrade", "fetch"],
            ),
            (Kind::Publish, &["publish"]),
            (Kind::Remove, &["remove", "rm", "uninstall", "un", "prune"]),
            (
                Kind::Query,
                &[
                    "list",
                    "ls",
                    "ll",
                    "why",
                    "outdated",
                    "audit",
                    "root",
                    "--version",
                    "-v",
                ],
            ),
        ],
        registry: "registry.npmjs.org",
    },
    Manager {
        name: "yarn",
        bare: Some(Kind::Install),
        other: Some(Kind::RunsCode),
        table: &[
            (Kind::Install, &["add", "install", "upgrade", "up"]),
            (Kind::Publish, &["publish", "npm"]),
            (Kind::Remove, &["remove"]),
            (
                Kind::Query,
                &[
                    "list",
                    "info",
                    "why",
                    "outdated",
                    "audit",
                    "--version",
                    "-v",
                ],
            ),
        ],
        registry: "registry.yarnpkg.com",
    },
    Manager {
        name: "bun",
        bare: Some(Kind::Query),
        other: Some(Kind::RunsCode),
        table: &[
            (Kind::Install, &["add", "install", "i", "update"]),
            (Kind::Publish, &["publish"]),
            (Kind::Remove, &["remove", "rm"]),
            (Kind::Query, &["pm", "outdated", "--version", "-v"]),
        ],
        registry: "registry.npmjs.org",
    },
    Manager {
        name: "pip",
        bare: Some(Kind::Query),
        other: None,
        table: &[
            (Kind::Install, &["install", "download"]),
            (Kind::Remove, &["uninstall"]),
            (
                Kind::Query,
                &[
                    "list",
                    "show",
                    "freeze",
                    "check",
                    "--version",
                    "-V",
                    "help",
                    "index",
                ],
            ),
        ],
        registry: "pypi.org",
    },
    Manager {
        name: "uv",
        bare: Some(Kind::Query),
        other: None,
        table: &[
            (
                Kind::Install,
                &[
                    "add",
                    "pip install",
                    "sync",
                    "tool install",
                    "lock",
                    "pip sync",
                ],
            ),
            (Kind::RunsCode, &["run", "tool run", "init"]),
            (Kind::Remove, &["remove", "pip uninstall"]),
            (
                Kind::Query,
                &[
                    "pip list",
                    "pip freeze",
                    "pip show",
                    "tree",
                    "--version",
                    "version",
                ],
            ),
        ],
        registry: "pypi.org",
    },
    Manager {
        name: "poetry",
        bare: Some(Kind::Query),
        other: None,
        table: &[
            (Kind::Install, &["add", "install", "update", "lock"]),
            (Kind::RunsCode, &["run", "shell", "build"]),
            (Kind::Publish, &["publish"]),
            (Kind::Remove, &["remove"]),
            (Kind::Query, &["show", "check", "--version", "version"]),
        ],
        registry: "pypi.org",
    },
    Manager {
        name: "cargo",
        bare: Some(Kind::Query),
        other: None,
        table: &[
            (
                Kind::Install,
                &["add", "install", "update", "fetch", "generate-lockfile"],
            ),
            (
                Kind::RunsCode,
                &[
                    "build", "b", "test", "t", "run", "r", "check", "c", "clippy", "bench", "doc",
                    "d", "fix", "init", "new",
                ],
            ),
            (Kind::Publish, &["publish", "yank", "owner", "login"]),
            (Kind::Remove, &["remove", "rm", "uninstall", "clean", "fmt"]),
            (
                Kind::Query,
                &[
                    "tree",
                    "metadata",
                    "search",
                    "--version",
                    "-V",
                    "version",
                    "locate-project",
                    "pkgid",
                    "verify-project",
                    "help",
                ],
            ),
        ],
        registry: "crates.io",
    },
    Manager {
        name: "go",
        bare: Some(Kind::Query),
        other: None,
        table: &[
            (
                Kind::Install,
                &["get", "install", "mod download", "mod tidy"],
            ),
            (
                Kind::RunsCode,
                &["build", "test", "run", "generate", "vet", "tool"],
            ),
            (Kind::Remove, &["fmt", "mod init", "clean"]),
            (Kind::Query, &["version", "env", "list", "doc", "help"]),
        ],
        registry: "proxy.golang.org",
    },
    Manager {
        name: "apt-get",
        bare: None,
        other: None,
        table: &[
            (
                Kind::Install,
                &["install", "upgrade", "dist-upgrade", "update", "build-dep"],
            ),
            (Kind::Remove, &["remove", "purge", "autoremove"]),
        ],
        registry: "apt repositories",
    },
    Manager {
        name: "apt",
        bare: None,
        other: None,
        table: &[
            (
                Kind::Install,
                &["install", "upgrade", "full-upgrade", "update"],
            ),
            (Kind::Remove, &["remove", "purge", "autoremove"]),
            (Kind::Query, &["list", "search", "show", "policy"]),
        ],
        registry: "apt repositories",
    },
    Manager {
        name: "brew",
        bare: None,
        other: None,
        table: &[
            (
                Kind::Install,
                &["install", "upgrade", "reinstall", "update", "tap"],
            ),
            (Kind::Remove, &["uninstall", "remove", "rm"]),
            (
                Kind::Query,
                &[
                    "list",
                    "ls",
                    "search",
                    "info",
                    "outdated",
                    "--version",
                    "config",
                    "doctor",
                ],
            ),
        ],
        registry: "formulae.brew.sh",
    },
    Manager {
        name: "gem",
        bare: None,
        other: None,
        table: &[
            (Kind::Install, &["install", "update"]),
            (Kind::Remove, &["uninstall"]),
            (Kind::Query, &["list", "search", "info", "--version"]),
            (Kind::Publish, &["push"]),
        ],
        registry: "rubygems.org",
    },
    Manager {
        name: "composer",
        bare: None,
        other: Some(Kind::RunsCode),
        table: &[
            (Kind::Install, &["require", "install", "update"]),
            (Kind::Remove, &["remove"]),
            (Kind::Query, &["show", "outdated", "--version"]),
        ],
        registry: "packagist.org",
    },
    Manager {
        name: "pipx",
        bare: None,
        other: None,
        table: &[
            (Kind::Install, &["install", "upgrade"]),
            (Kind::RunsCode, &["run"]),
            (Kind::Remove, &["uninstall"]),
            (Kind::Query, &["list"]),
        ],
        registry: "pypi.org",
    },
    Manager {
        name: "conda",
        bare: None,
        other: None,
        table: &[
            (Kind::Install, &["install", "update", "create"]),
            (Kind::RunsCode, &["run"]),
            (Kind::Remove, &["remove", "uninstall"]),
            (Kind::Query, &["list", "info", "search"]),
        ],
        registry: "conda channels",
    },
    Manager {
        name: "dnf",
        bare: None,
        other: None,
        table: &[
            (Kind::Install, &["install", "upgrade", "update"]),
            (Kind::Remove, &["remove"]),
            (Kind::Query, &["list", "search", "info"]),
        ],
        registry: "dnf repositories",
    },
    Manager {
        name: "yum",
        bare: None,
        other: None,
        table: &[
            (Kind::Install, &["install", "upgrade", "update"]),
            (Kind::Remove, &["remove"]),
            (Kind::Query, &["list", "search", "info"]),
        ],
        registry: "yum repositories",
    },
    Manager {
        name: "apk",
        bare: None,
        other: None,
        table: &[
            (Kind::Install, &["add", "upgrade", "update"]),
            (Kind::Remove, &["del"]),
            (Kind::Query, &["info", "search"]),
        ],
        registry: "apk repositories",
    },
];

/// Runners that download a package and run it at once.
const DOWNLOAD_AND_RUN: &[&str] = &["npx", "pnpx", "bunx", "uvx"];

pub(crate) fn is_package_manager(name: &str) -> bool {
    DOWNLOAD_AND_RUN.contains(&name)
        || MANAGERS.iter().any(|manager| manager.name == name)
        || name == "mamba"
}

/// Options of package managers that take a value, so the value is not
/// mistaken for a package name.
const VALUE_OPTIONS: OptionSpec = OptionSpec {
    short_values: "rcitCwe",
    long_values: &[
        "requirement",
        "constraint",
        "index-url",
        "extra-index-url",
        "target",
        "prefix",
        "root",
        "find-links",
        "registry",
        "cwd",
        "filter",
        "workspace",
        "manifest-path",
        "features",
        "package",
        "python",
        "python-version",
        "platform",
        "version",
        "git",
        "branch",
        "tag",
        "rev",
        "path",
        "dir",
        "directory",
        "config",
        "cache",
    ],
};

pub(crate) fn classify(name: &str, args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    if DOWNLOAD_AND_RUN.contains(&name) {
        let parsed = parse_options(args, &VALUE_OPTIONS, true);
        let packages = args
            .get(parsed.end)
            .map(|word| vec![word.text.clone()])
            .unwrap_or_default();
        out.push(Effect::InstallsPackages {
            manager: name.to_string(),
            packages,
        });
        out.push(Effect::Opaque {
            reason: format!("`{name}` downloads a package and runs its code"),
        });
        return;
    }
    let lookup = if name == "mamba" {
        "conda"
    } else if name.starts_with("pip") {
        "pip"
    } else {
        name
    };
    let Some(manager) = MANAGERS.iter().find(|manager| manager.name == lookup) else {
        out.push(Effect::Opaque {
            reason: format!("`{name}` is not a known program, so its effects are not known"),
        });
        return;
    };
    let parsed = parse_options(args, &VALUE_OPTIONS, false);
    let operands: Vec<&Word> = parsed.operands.iter().collect();
    let (kind, used) = subcommand_kind(manager, args, &operands);
    let packages: Vec<String> = operands
        .iter()
        .skip(used)
        .map(|word| word.text.clone())
        .collect();
    let subcommand = operands
        .iter()
        .take(used)
        .map(|word| word.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    match kind {
        Some(Kind::Install) => {
            out.push(Effect::InstallsPackages {
                manager: name.to_string(),
                packages,
            });
            for (option, value) in &parsed.options {
                if let ("-r" | "--requirement" | "-c" | "--constraint", Some(file)) =
                    (option.as_str(), value)
                {
                    super::programs::path_effect(
                        file,
                        site,
                        |path| Effect::ReadsFile { path },
                        out,
                    );
                }
            }
        }
        Some(Kind::RunsCode) => {
            out.push(Effect::Opaque {
                reason: format!("`{name} {subcommand}` runs project or package code"),
            });
        }
        Some(Kind::Publish) => out.push(Effect::Network {
            target: manager.registry.to_string(),
        }),
        Some(Kind::Remove) => out.push(Effect::WritesFile {
            path: site.cwd.clone(),
        }),
        Some(Kind::Query) => {}
        None => out.push(Effect::Opaque {
            reason: format!("`{name} {subcommand}` is not a known subcommand"),
        }),
    }
}

/// Finds the kind of the command and how many operands its subcommand spans.
fn subcommand_kind(manager: &Manager, args: &[Word], operands: &[&Word]) -> (Option<Kind>, usize) {
    let Some(first) = operands.first() else {
        let flag_only = args
            .iter()
            .find(|word| word.text == "--version" || word.text == "-v" || word.text == "-V");
        if flag_only.is_some() {
            return (Some(Kind::Query), 0);
        }
        return (manager.bare, 0);
    };
    if let Some(second) = operands.get(1) {
        let pair = format!("{} {}", first.text, second.text);
        if let Some(kind) = lookup_kind(manager, &pair) {
            return (Some(kind), 2);
        }
    }
    match lookup_kind(manager, &first.text) {
        Some(kind) => (Some(kind), 1),
        None => (manager.other, 1),
    }
}

fn lookup_kind(manager: &Manager, subcommand: &str) -> Option<Kind> {
    manager
        .table
        .iter()
        .find(|(_, names)| names.contains(&subcommand))
        .map(|(kind, _)| *kind)
}
