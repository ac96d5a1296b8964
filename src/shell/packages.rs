//! Package managers: which subcommands install packages, which run project
//! code, and which only query.

use super::options::{is_option, parse_options, OptionSpec, ParsedArgs};
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
    /// A query that reads only local files.
    Query,
    /// A query sent to the registry (`npm view`), which counts as network
    /// access.
    Network,
    /// A subcommand not known to stay offline. It is opaque and counts as
    /// network access, so a policy that denies network access denies it.
    Unlisted,
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
    "install",
    "i",
    "add",
    "ci",
    "in",
    "ins",
    "inst",
    "insta",
    "instal",
    "isnt",
    "isnta",
    "isntal",
    "isntall",
    "update",
    "up",
    "upgrade",
    "udpate",
    "audit fix",
    "dedupe",
    "ddp",
    "clean-install",
    "ic",
    "install-clean",
    "isntall-clean",
];

/// npm subcommands that ask the registry but change nothing locally.
const NPM_NETWORK: &[&str] = &[
    "view",
    "info",
    "show",
    "v",
    "outdated",
    "audit",
    "search",
    "s",
    "se",
    "find",
    "whoami",
    "ping",
    "doctor",
    "find-dupes",
    "repo",
    "docs",
    "home",
    "bugs",
];

const MANAGERS: &[Manager] = &[
    Manager {
        name: "npm",
        bare: Some(Kind::Query),
        other: Some(Kind::Unlisted),
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
                    "install-test",
                    "it",
                    "install-ci-test",
                    "cit",
                ],
            ),
            (
                Kind::Publish,
                &["publish", "unpublish", "deprecate", "dist-tag"],
            ),
            (
                Kind::Remove,
                &["uninstall", "remove", "rm", "r", "un", "unlink", "prune"],
            ),
            (Kind::Network, NPM_NETWORK),
            // Only these are known to read nothing but local files.
            (
                Kind::Query,
                &[
                    "ls",
                    "list",
                    "ll",
                    "la",
                    "help",
                    "root",
                    "prefix",
                    "why",
                    "explain",
                    "fund",
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
                Kind::Network,
                &[
                    "outdated", "audit", "view", "info", "show", "search", "whoami", "ping",
                ],
            ),
            (
                Kind::Query,
                &["list", "ls", "ll", "why", "root", "--version", "-v"],
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
            (Kind::Network, &["info", "outdated", "audit"]),
            (Kind::Query, &["list", "why", "--version", "-v"]),
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
            (Kind::Network, &["outdated"]),
            (Kind::Query, &["pm", "--version", "-v"]),
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
                &["list", "show", "freeze", "check", "--version", "-V", "help"],
            ),
            (Kind::Network, &["index", "search"]),
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
            (Kind::Network, &["search", "info"]),
            (Kind::Remove, &["remove", "rm", "uninstall", "clean", "fmt"]),
            (
                Kind::Query,
                &[
                    "tree",
                    "metadata",
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
                &["list", "ls", "--version", "config", "doctor"],
            ),
            (Kind::Network, &["search", "info", "outdated"]),
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
            (Kind::Query, &["list", "info", "--version"]),
            (Kind::Network, &["search"]),
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
            (Kind::Query, &["show", "--version"]),
            (Kind::Network, &["outdated"]),
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
            (Kind::Query, &["list", "info"]),
            (Kind::Network, &["search"]),
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
            (Kind::Network, &["list", "search", "info"]),
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
            (Kind::Network, &["list", "search", "info"]),
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
    // pip's flag `--pre` would otherwise expand to `--prefix` and take the
    // next word, such as `-r`, as its value.
    let args: Vec<Word> = args
        .iter()
        .filter(|word| word.text != "--pre")
        .cloned()
        .collect();
    let parsed = parse_options(&args, &VALUE_OPTIONS, false);
    if let Some(option) = redirecting_option(lookup, &parsed) {
        out.push(Effect::Opaque {
            reason: format!("`{name} {option}` fetches from another address than the registry"),
        });
    }
    if let Some(option) = outside_install_option(lookup, &parsed) {
        out.push(Effect::Opaque {
            reason: format!("`{name} {option}` installs outside the worktree"),
        });
    }
    let operands: Vec<&Word> = parsed.operands.iter().collect();
    let (kind, used) = subcommand_kind(manager, &args, &operands);
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
        Some(Kind::Network) => out.push(Effect::Network {
            target: manager.registry.to_string(),
        }),
        Some(Kind::Unlisted) => {
            out.push(Effect::Network {
                target: manager.registry.to_string(),
            });
            out.push(Effect::Opaque {
                reason: format!("`{name} {subcommand}` is not known to stay offline"),
            });
        }
        None => out.push(Effect::Opaque {
            reason: format!("`{name} {subcommand}` is not a known subcommand"),
        }),
    }
}

/// Long options that point a manager at another registry or at a
/// configuration file that may. The managers accept them abbreviated (npm's
/// nopt and pip's optparse expand unique prefixes), so `--reg` counts.
const REDIRECTING_OPTIONS: &[(&str, &[&str])] = &[
    ("npm", &["--registry", "--userconfig", "--globalconfig"]),
    ("pnpm", &["--registry", "--userconfig", "--globalconfig"]),
    ("yarn", &["--registry", "--use-yarnrc"]),
    ("bun", &["--registry", "--config"]),
    (
        "pip",
        &[
            "--index-url",
            "--extra-index-url",
            "--find-links",
            "--proxy",
        ],
    ),
];

fn redirecting_option<'a>(manager: &str, parsed: &'a ParsedArgs) -> Option<&'a str> {
    let (_, longs) = REDIRECTING_OPTIONS
        .iter()
        .find(|(name, _)| *name == manager)?;
    parsed
        .options
        .iter()
        .map(|(option, _)| option.as_str())
        .find(|option| {
            // npm scopes registries per package scope: `--@acme:registry=URL`.
            let scoped = option.starts_with("--@") && option.ends_with(":registry");
            scoped || longs.iter().any(|long| is_option(option, "", long))
        })
}

/// Long options that install outside the project. `crate::hazards` holds
/// them when spelled out, and npm and pip also take them abbreviated
/// (`npm i --glo x` installs globally).
const OUTSIDE_INSTALL_OPTIONS: &[&str] = &[
    "--global",
    "--prefix",
    "--location",
    "--user",
    "--target",
    "--root",
    "--system",
    "--break-system-packages",
];

fn outside_install_option<'a>(manager: &str, parsed: &'a ParsedArgs) -> Option<&'a str> {
    if !matches!(manager, "npm" | "pnpm" | "yarn" | "bun" | "pip") {
        return None;
    }
    parsed
        .options
        .iter()
        .map(|(option, _)| option.as_str())
        .find(|option| {
            OUTSIDE_INSTALL_OPTIONS
                .iter()
                .any(|long| is_option(option, "", long))
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> ParsedArgs {
        let words: Vec<Word> = text.split_whitespace().map(Word::literal).collect();
        parse_options(&words, &VALUE_OPTIONS, false)
    }

    #[test]
    fn abbreviated_and_scoped_registries_redirect() {
        assert_eq!(
            redirecting_option("npm", &parsed("view x --reg=u")),
            Some("--registry")
        );
        assert_eq!(
            redirecting_option("npm", &parsed("view x --userc u")),
            Some("--userc")
        );
        assert_eq!(
            redirecting_option("npm", &parsed("i @a/x --@a:registry=u")),
            Some("--@a:registry")
        );
        assert_eq!(
            redirecting_option("pip", &parsed("install --index u x")),
            Some("--index-url")
        );
        assert_eq!(
            redirecting_option("npm", &parsed("install --save-dev x")),
            None
        );
        assert_eq!(
            redirecting_option("cargo", &parsed("add --registry u x")),
            None
        );
    }

    #[test]
    fn pip_pre_flag_keeps_requirement_file() {
        let context = crate::shell::ShellContext {
            cwd: "/w/job".into(),
            home: None,
            worktree: "/w/job".into(),
        };
        let analysis = crate::shell::analyse("pip install --pre -r /etc/reqs.txt", &context);
        let read = Effect::ReadsFile {
            path: "/etc/reqs.txt".into(),
        };
        let found = analysis
            .sub_commands
            .iter()
            .any(|sub| sub.effects.contains(&read));
        assert!(found, "{analysis:?}");
    }

    #[test]
    fn npm_queries_split_by_whether_they_go_online() {
        let npm = MANAGERS.iter().find(|manager| manager.name == "npm");
        let kind = |text: &str| {
            let words: Vec<Word> = text.split_whitespace().map(Word::literal).collect();
            let operands: Vec<&Word> = words.iter().collect();
            npm.map(|manager| subcommand_kind(manager, &words, &operands))
        };
        assert!(matches!(kind("view x"), Some((Some(Kind::Network), 1))));
        assert!(matches!(kind("audit fix"), Some((Some(Kind::Install), 2))));
        assert!(matches!(kind("ls"), Some((Some(Kind::Query), 1))));
        assert!(matches!(
            kind("cache add x"),
            Some((Some(Kind::Unlisted), 1))
        ));
    }
}
