//! Programs that reach the network, and `git`, whose subcommands either stay
//! in the repository or talk to a remote.

use super::options::{is_option, parse_options, OptionSpec};
use super::programs::{path_effect, Site};
use super::words::Word;
use super::Effect;

const NETWORK_PROGRAMS: &[&str] = &[
    "curl",
    "wget",
    "ssh",
    "scp",
    "sftp",
    "rsync",
    "nc",
    "ncat",
    "netcat",
    "telnet",
    "ftp",
    "ping",
    "dig",
    "nslookup",
    "host",
    "traceroute",
    "http",
    "https",
    "xh",
    "gh",
    "aria2c",
    "socat",
];

pub(crate) fn is_network_program(name: &str) -> bool {
    NETWORK_PROGRAMS.contains(&name)
}

fn network(out: &mut Vec<Effect>, target: &Word) {
    if !target.known {
        out.push(Effect::Opaque {
            reason: format!("the network target `{}` is not static", target.text),
        });
    }
    out.push(Effect::Network {
        target: target.text.clone(),
    });
}

fn reads(path: std::path::PathBuf) -> Effect {
    Effect::ReadsFile { path }
}

fn writes(path: std::path::PathBuf) -> Effect {
    Effect::WritesFile { path }
}

pub(crate) fn classify(name: &str, args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    match name {
        "curl" => curl(args, site, out),
        "wget" => wget(args, site, out),
        "scp" | "rsync" => copy(name, args, site, out),
        "gh" => {
            out.push(Effect::Network {
                target: "github.com".into(),
            });
            out.push(Effect::WritesFile {
                path: site.cwd.clone(),
            });
        }
        "ssh" | "sftp" => {
            let spec = OptionSpec {
                short_values: "BbcDEeFIiJLlmOoPpRSWw",
                long_values: &[],
            };
            let parsed = parse_options(args, &spec, true);
            match args.get(parsed.end) {
                Some(host) => network(
                    out,
                    &Word {
                        text: strip_user(&host.text),
                        ..host.clone()
                    },
                ),
                None => out.push(Effect::Opaque {
                    reason: format!("`{name}` without a host"),
                }),
            }
        }
        _ => {
            let spec = OptionSpec {
                short_values: "cipqswWtTmfxeb",
                long_values: &[],
            };
            let parsed = parse_options(args, &spec, false);
            match parsed.operands.first() {
                Some(host) => network(out, host),
                None => out.push(Effect::Network {
                    target: format!("{name} (no host given)"),
                }),
            }
            let runs_program = parsed.options.iter().any(|(option, _)| {
                matches!(
                    option.as_str(),
                    "-e" | "-c" | "--exec" | "--sh-exec" | "--lua-exec"
                )
            });
            if runs_program || name == "socat" {
                let reason = format!("`{name}` can connect a program to the network");
                out.push(Effect::Opaque { reason });
            }
        }
    }
}

fn strip_user(text: &str) -> String {
    text.rsplit_once('@')
        .map(|(_, host)| host)
        .unwrap_or(text)
        .to_string()
}

fn url_file_name(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    let name = without_query
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if name.is_empty() || without_query.ends_with("//") || !without_query.contains('/') {
        "index.html".into()
    } else {
        name.to_string()
    }
}

fn curl(args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "oTdHXuAebcFKrwmxEyYzCDQtU",
        long_values: &[
            "output",
            "upload-file",
            "data",
            "data-binary",
            "data-raw",
            "data-urlencode",
            "header",
            "request",
            "user",
            "user-agent",
            "referer",
            "cookie",
            "cookie-jar",
            "form",
            "config",
            "range",
            "write-out",
            "max-time",
            "proxy",
            "cert",
            "key",
            "cacert",
            "dump-header",
            "url",
            "output-dir",
            "connect-timeout",
            "retry",
        ],
    };
    let parsed = parse_options(args, &spec, false);
    let mut urls: Vec<Word> = parsed.operands.clone();
    let mut remote_name = false;
    for (option, value) in &parsed.options {
        match (option.as_str(), value) {
            ("-o" | "--output" | "-c" | "--cookie-jar" | "-D" | "--dump-header", Some(value)) => {
                path_effect(value, site, writes, out);
            }
            ("-T" | "--upload-file", Some(value)) => path_effect(value, site, reads, out),
            (
                "-d" | "--data" | "--data-binary" | "--data-urlencode" | "-F" | "--form",
                Some(value),
            ) => {
                if let Some(file) = value.text.rsplit_once('@').map(|(_, file)| file) {
                    path_effect(
                        &Word {
                            text: file.to_string(),
                            ..value.clone()
                        },
                        site,
                        reads,
                        out,
                    );
                }
            }
            ("-K" | "--config", _) => out.push(Effect::Opaque {
                reason: "`curl --config` reads options from a file".into(),
            }),
            ("--url", Some(value)) => urls.push(value.clone()),
            ("-O" | "--remote-name" | "--remote-name-all", _) => remote_name = true,
            _ => {}
        }
    }
    for url in &urls {
        network(out, url);
        if remote_name {
            path_effect(
                &Word {
                    text: url_file_name(&url.text),
                    ..url.clone()
                },
                site,
                writes,
                out,
            );
        }
    }
    if urls.is_empty() {
        out.push(Effect::Opaque {
            reason: "`curl` without a URL".into(),
        });
    }
}

fn wget(args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "OoPiaeUTtwQ",
        long_values: &[
            "output-document",
            "output-file",
            "directory-prefix",
            "input-file",
            "user-agent",
            "header",
            "tries",
            "timeout",
        ],
    };
    let parsed = parse_options(args, &spec, false);
    let mut document: Option<Word> = None;
    let mut directory = Word::literal(".");
    for (option, value) in &parsed.options {
        match (option.as_str(), value) {
            ("-O" | "--output-document", Some(value)) => document = Some(value.clone()),
            ("-o" | "--output-file" | "-a", Some(value)) => path_effect(value, site, writes, out),
            ("-P" | "--directory-prefix", Some(value)) => directory = value.clone(),
            ("-i" | "--input-file", Some(value)) => {
                path_effect(value, site, reads, out);
                out.push(Effect::Opaque {
                    reason: "`wget -i` reads its URLs from a file".into(),
                });
            }
            _ => {}
        }
    }
    for url in &parsed.operands {
        network(out, url);
        if document.is_none() {
            let file = format!("{}/{}", directory.text, url_file_name(&url.text));
            path_effect(
                &Word {
                    text: file,
                    known: url.known && directory.known,
                    ..url.clone()
                },
                site,
                writes,
                out,
            );
        }
    }
    if let Some(document) = document {
        path_effect(&document, site, writes, out);
    }
    if parsed.operands.is_empty() {
        out.push(Effect::Opaque {
            reason: "`wget` without a URL".into(),
        });
    }
}

/// `scp` and `rsync`: an operand `host:path` is remote; the last operand is
/// the destination and the others are sources.
fn copy(name: &str, args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let spec = match name {
        "scp" => OptionSpec {
            short_values: "cFiJloPS",
            long_values: &[],
        },
        _ => OptionSpec {
            short_values: "efTB",
            long_values: &[
                "rsh",
                "exclude",
                "include",
                "filter",
                "rsync-path",
                "temp-dir",
                "files-from",
            ],
        },
    };
    let parsed = parse_options(args, &spec, false);
    if parsed
        .options
        .iter()
        .any(|(option, _)| matches!(option.as_str(), "-e" | "--rsh" | "--rsync-path"))
    {
        out.push(Effect::Opaque {
            reason: format!("`{name}` runs a remote shell command given as an option"),
        });
    }
    let Some((destination, sources)) = parsed.operands.split_last() else {
        return;
    };
    for source in sources {
        match remote_host(&source.text) {
            Some(host) => network(
                out,
                &Word {
                    text: host,
                    ..source.clone()
                },
            ),
            None => path_effect(source, site, reads, out),
        }
    }
    match remote_host(&destination.text) {
        Some(host) => network(
            out,
            &Word {
                text: host,
                ..destination.clone()
            },
        ),
        None => path_effect(destination, site, writes, out),
    }
}

fn remote_host(text: &str) -> Option<String> {
    if let Some(rest) = text.strip_prefix("rsync://") {
        return Some(strip_user(rest.split('/').next().unwrap_or(rest)));
    }
    let (host, _) = text.split_once(':')?;
    if host.is_empty() || host.contains('/') {
        return None;
    }
    Some(strip_user(host))
}

/// Subcommands that only read the repository.
const GIT_READS: &[&str] = &[
    "status",
    "diff",
    "log",
    "show",
    "rev-parse",
    "ls-files",
    "ls-tree",
    "blame",
    "grep",
    "describe",
    "shortlog",
    "reflog",
    "cat-file",
    "show-ref",
    "merge-base",
    "name-rev",
    "count-objects",
    "check-ignore",
    "whatchanged",
    "help",
    "version",
    "rev-list",
    "for-each-ref",
    "var",
];

/// Subcommands that change the repository or its worktree.
const GIT_WRITES: &[&str] = &[
    "add",
    "commit",
    "checkout",
    "switch",
    "restore",
    "reset",
    "stash",
    "merge",
    "rebase",
    "cherry-pick",
    "revert",
    "tag",
    "mv",
    "rm",
    "init",
    "apply",
    "am",
    "clean",
    "worktree",
    "branch",
    "notes",
    "bisect",
    "gc",
    "prune",
    "sparse-checkout",
    "update-index",
    "update-ref",
    "format-patch",
    "mergetool",
    "rerere",
    "remote",
];

/// `git [-C dir] SUBCOMMAND ...`. Changes inside the repository are recorded
/// as a write of the repository directory.
// NOTE: `commit`, `merge` and others run hooks from `.git/hooks`, which this
// analysis does not read.
pub(crate) fn git(args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let mut repository = site.clone();
    let mut index = 0;
    while let Some(word) = args.get(index) {
        let text = word.text.as_str();
        if !text.starts_with('-') {
            break;
        }
        index += 1;
        match text {
            "-C" => {
                if let Some(directory) = args.get(index) {
                    index += 1;
                    git_directory(directory, &mut repository, out);
                }
            }
            "-c" => {
                index += 1;
                out.push(Effect::Opaque {
                    reason: "`git -c` sets configuration that can run commands".into(),
                });
            }
            _ if text.starts_with("--git-dir")
                || text.starts_with("--work-tree")
                || text.starts_with("--exec-path")
                || text.starts_with("--config-env") =>
            {
                if !text.contains('=') {
                    index += 1;
                }
                out.push(Effect::Opaque {
                    reason: format!("`git {text}` points git at another repository or program"),
                });
            }
            _ => {}
        }
    }
    let Some(subcommand) = args.get(index) else {
        return;
    };
    let rest = args.get(index + 1..).unwrap_or_default();
    let here = repository.cwd.clone();
    match subcommand.text.as_str() {
        "push" | "fetch" | "pull" | "ls-remote" => {
            let spec = OptionSpec {
                short_values: "oj",
                long_values: &["push-option", "jobs", "receive-pack", "upload-pack", "repo"],
            };
            let parsed = parse_options(rest, &spec, false);
            let remote = parsed
                .operands
                .first()
                .cloned()
                .unwrap_or_else(|| Word::literal("origin"));
            network(out, &remote);
            if subcommand.text != "ls-remote" {
                out.push(writes(here));
            }
            if parsed.options.iter().any(|(option, _)| {
                matches!(
                    option.as_str(),
                    "--receive-pack" | "--upload-pack" | "--exec"
                )
            }) {
                out.push(Effect::Opaque {
                    reason: "`git` runs a remote program given as an option".into(),
                });
            }
        }
        "clone" => git_clone(rest, &repository, out),
        "submodule" => {
            out.push(Effect::Network {
                target: "submodule remotes".into(),
            });
            out.push(writes(here));
        }
        "config" => git_config(rest, here, out),
        name if GIT_READS.contains(&name) => {
            git_read_files(name, rest, &repository, out);
            out.push(reads(here));
        }
        name if GIT_WRITES.contains(&name) => out.push(writes(here)),
        name => out.push(Effect::Opaque {
            reason: format!("`git {name}` is not a known git subcommand and may be an alias"),
        }),
    }
}

/// Files outside the repository that a reading subcommand opens: the
/// operands of `git diff --no-index`, and files given to options such as
/// `git blame --contents` or `git grep -f`.
fn git_read_files(name: &str, rest: &[Word], repository: &Site, out: &mut Vec<Effect>) {
    let (spec, file_options): (OptionSpec, &[(&str, &str)]) = match name {
        "blame" => (
            OptionSpec {
                short_values: "LS",
                long_values: &["contents", "ignore-revs-file", "ignore-rev", "date"],
            },
            &[("", "--contents"), ("", "--ignore-revs-file"), ("-S", "")],
        ),
        "grep" => (
            OptionSpec {
                short_values: "fABCem",
                long_values: &[
                    "file",
                    "after-context",
                    "before-context",
                    "context",
                    "max-count",
                    "max-depth",
                    "threads",
                ],
            },
            &[("-f", "--file")],
        ),
        "ls-files" => (
            OptionSpec {
                short_values: "xX",
                long_values: &["exclude", "exclude-from", "exclude-per-directory", "with-tree"],
            },
            &[("-X", "--exclude-from")],
        ),
        "diff" => (
            OptionSpec {
                short_values: "O",
                long_values: &[],
            },
            &[("-O", "")],
        ),
        _ => return,
    };
    let parsed = parse_options(rest, &spec, false);
    for (option, value) in &parsed.options {
        let names_file = file_options.iter().any(|(short, long)| {
            option == short || (!long.is_empty() && is_option(option, "", long))
        });
        if let (true, Some(value)) = (names_file, value) {
            path_effect(value, repository, reads, out);
        }
    }
    let no_index = parsed
        .options
        .iter()
        .any(|(option, _)| option.len() > 5 && is_option(option, "", "--no-index"));
    // git also diffs two paths without the index when either lies outside
    // the repository, so both operands of a two-operand diff may be files.
    if name == "diff" && (no_index || parsed.operands.len() == 2) {
        for operand in &parsed.operands {
            path_effect(operand, repository, reads, out);
        }
    }
}

fn git_directory(directory: &Word, repository: &mut Site, out: &mut Vec<Effect>) {
    if !directory.known {
        out.push(Effect::Opaque {
            reason: format!(
                "`git -C {}` names a directory that is not static",
                directory.text
            ),
        });
        return;
    }
    repository.cwd = repository.locate(&directory.text);
}

fn git_clone(rest: &[Word], repository: &Site, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "obcuj",
        long_values: &[
            "origin",
            "branch",
            "config",
            "upload-pack",
            "depth",
            "reference",
            "separate-git-dir",
            "template",
            "jobs",
        ],
    };
    let parsed = parse_options(rest, &spec, false);
    if parsed.options.iter().any(|(option, _)| {
        matches!(
            option.as_str(),
            "-c" | "--config" | "-u" | "--upload-pack" | "--template"
        )
    }) {
        out.push(Effect::Opaque {
            reason: "`git clone` sets configuration or programs that can run commands".into(),
        });
    }
    let Some(url) = parsed.operands.first() else {
        out.push(Effect::Opaque {
            reason: "`git clone` without a repository".into(),
        });
        return;
    };
    network(out, url);
    let destination = match parsed.operands.get(1) {
        Some(directory) => directory.clone(),
        None => {
            let name = url_file_name(&url.text);
            Word {
                text: name.trim_end_matches(".git").to_string(),
                ..url.clone()
            }
        }
    };
    path_effect(&destination, repository, writes, out);
}

fn git_config(rest: &[Word], here: std::path::PathBuf, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "f",
        long_values: &["file", "type", "default"],
    };
    let parsed = parse_options(rest, &spec, false);
    let queries = [
        "--get",
        "--get-all",
        "--get-regexp",
        "--list",
        "-l",
        "--show-origin",
        "--show-scope",
    ];
    let is_query = parsed
        .options
        .iter()
        .any(|(option, _)| queries.contains(&option.as_str()));
    let changes = parsed.options.iter().any(|(option, _)| {
        matches!(
            option.as_str(),
            "--unset"
                | "--unset-all"
                | "--add"
                | "--replace-all"
                | "-e"
                | "--edit"
                | "--rename-section"
                | "--remove-section"
        )
    });
    if (is_query || parsed.operands.len() <= 1) && !changes {
        out.push(reads(here));
        return;
    }
    out.push(Effect::Opaque {
        reason: "`git config` changes configuration, which can make git run commands".into(),
    });
}
