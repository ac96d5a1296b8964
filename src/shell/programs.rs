//! Effects of known programs, by allowlist. A program that is in no table is
//! opaque: its effects are not known, so it is never provably safe.

use std::path::PathBuf;
use std::rc::Rc;

use super::command::{self, is_loader_variable, Invocation};
use super::options::{is_option, parse_options, OptionSpec, ParsedArgs};
use super::walk::{Place, Walker};
use super::words::Word;
use super::{archive, network, packages, Effect};
use crate::paths;

/// The directory and links against which a sub-command's path operands resolve.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub cwd: PathBuf,
    /// Links created earlier in the command line, as (link, target) pairs of
    /// normalised paths. They do not exist on disk yet, so `resolve` cannot
    /// follow them.
    pub links: Vec<(PathBuf, PathBuf)>,
    /// The fields that stay the same for the whole analysis.
    pub fixed: Rc<Fixed>,
}

/// The parts of a `Site` shared by every sub-command of one analysis.
#[derive(Debug)]
pub(crate) struct Fixed {
    pub home: Option<PathBuf>,
    /// The worktree, already resolved: paths below it are resolved from there.
    pub worktree: PathBuf,
    /// File-system results read so far during this analysis.
    pub disk: paths::CachedDisk,
}

/// Maximum number of links from the command line followed for one path.
const MAX_LINK_HOPS: usize = 8;

/// Maximum number of links one command line may create before the analysis
/// stops following them and reports the line as opaque. Every path is
/// checked against every link, and `find -exec ln` multiplies them: a
/// 300-byte line made 1,000 links and took 27 ms. Real lines make a few.
const MAX_LINKS: usize = 64;

impl Site {
    /// Returns `text` as an absolute path: normalised against the working
    /// directory, through links made earlier in the line, then resolved
    /// through symlinks on disk.
    pub fn locate(&self, text: &str) -> PathBuf {
        // `paths::locate` follows disk links before `..`, as the kernel does.
        let fixed = &*self.fixed;
        let disk: &dyn paths::Lookup = &fixed.disk;
        let located = paths::locate_with(
            text,
            &self.cwd,
            fixed.home.as_deref(),
            &fixed.worktree,
            disk,
        );
        let mut path = located.path;
        let mut through_links = false;
        for _ in 0..MAX_LINK_HOPS {
            let through_link = self.links.iter().rev().find_map(|(link, target)| {
                let rest = path.strip_prefix(link).ok()?;
                Some(if rest.as_os_str().is_empty() {
                    target.clone()
                } else {
                    target.join(rest)
                })
            });
            match through_link {
                Some(next) if next != path => {
                    path = next;
                    through_links = true;
                }
                _ => break,
            }
        }
        // A settled path resolves to itself, so only a path that went
        // through a link of the command line needs resolving again.
        if located.settled && !through_links {
            return path;
        }
        paths::resolve_below_with(&path, &fixed.worktree, disk)
    }
}

/// Programs and builtins that read or write no files named by their
/// operands and reach no network.
const NO_FILE_EFFECTS: &[&str] = &[
    "echo", "printf", "pwd", "true", "false", ":", "whoami", "id", "uname", "sleep", "yes", "seq",
    "expr", "test", "[", "which", "type", "printenv", "set", "shopt", "unset", "read", "wait",
    "jobs", "exit", "return", "break", "continue", "shift", "getopts", "let", "ulimit", "umask",
    "tput", "clear", "nproc", "uptime", "ps", "df", "free", "locale", "arch", "tty", "logname",
    "groups", "dirs", "help", "tr", "basename", "dirname", "hostname", "unalias", "whereis",
    "lsof", "cal", "disown", "bg", "fg",
];

/// Programs whose operands are all files they read.
const READS_OPERANDS: &[&str] = &[
    "cat",
    "tac",
    "head",
    "tail",
    "less",
    "more",
    "wc",
    "cut",
    "nl",
    "od",
    "xxd",
    "hexdump",
    "file",
    "stat",
    "du",
    "ls",
    "tree",
    "md5sum",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "shasum",
    "cksum",
    "b2sum",
    "base64",
    "diff",
    "cmp",
    "comm",
    "paste",
    "join",
    "strings",
    "column",
    "fold",
    "fmt",
    "realpath",
    "readlink",
    "bat",
    "pr",
    "expand",
    "unexpand",
    "rev",
    "zcat",
    "bzcat",
    "xzcat",
    "sort",
    "uniq",
    "bc",
];

/// Programs that list the working directory when given no operand.
const LISTS_CWD: &[&str] = &["ls", "du", "tree"];

/// Programs whose operands are all files they create, change or delete.
const WRITES_OPERANDS: &[&str] = &[
    "rm", "rmdir", "mkdir", "touch", "unlink", "shred", "truncate", "tee",
];

/// Builtins that run code the analysis cannot see.
const RUNS_HIDDEN_CODE: &[&str] = &[
    "eval", "source", ".", "alias", "trap", "enable", "hash", "fc", "bind", "complete",
];

/// Interpreters: anything but a version or help query runs code that is not
/// analysed.
const INTERPRETERS: &[&str] = &[
    "python",
    "python2",
    "python3",
    "node",
    "nodejs",
    "deno",
    "perl",
    "ruby",
    "php",
    "lua",
    "luajit",
    "Rscript",
    "R",
    "osascript",
    "pwsh",
    "powershell",
    "java",
    "tsx",
    "ts-node",
    "irb",
    "julia",
    "groovy",
    "tclsh",
    "expect",
];

/// Programs whose operands do not matter when `xargs` appends unknown ones.
pub(crate) fn ignores_operands(name: &str) -> bool {
    matches!(name, "echo" | "printf" | "true" | "false" | "sleep")
}

/// Adds `make(path)` for a path operand, located through `Site::locate`.
/// An operand only known at run time becomes an opaque effect instead. The
/// streams `-`, `/dev/null`, `/dev/std*`, `/dev/tty` and `/dev/fd/N` add
/// nothing.
pub(crate) fn path_effect(
    word: &Word,
    site: &Site,
    make: fn(PathBuf) -> Effect,
    out: &mut Vec<Effect>,
) {
    if !word.known {
        out.push(Effect::Opaque {
            reason: format!("the path `{}` is not static", word.text),
        });
        return;
    }
    if is_stream(&word.text) {
        return;
    }
    out.push(make(site.locate(&glob_parent(&word.text))));
}

fn is_stream(text: &str) -> bool {
    matches!(
        text,
        "-" | "/dev/null" | "/dev/stdin" | "/dev/stdout" | "/dev/stderr" | "/dev/tty" | "/dev/zero"
    ) || text.starts_with("/dev/fd/")
}

/// Replaces a glob component starting with `.` by `..`, because a glob such
/// as `.*` matches `..` in bash before 5.2, which added `globskipdots`.
fn glob_parent(text: &str) -> String {
    let components: Vec<&str> = text
        .split('/')
        .map(|component| {
            let is_glob = component.contains(['*', '?', '[']);
            if is_glob && component.starts_with('.') {
                ".."
            } else {
                component
            }
        })
        .collect();
    components.join("/")
}

pub(crate) fn paths_of(
    words: &[Word],
    site: &Site,
    make: fn(PathBuf) -> Effect,
    out: &mut Vec<Effect>,
) {
    for word in words {
        path_effect(word, site, make, out);
    }
}

pub(crate) fn reads(path: PathBuf) -> Effect {
    Effect::ReadsFile { path }
}

pub(crate) fn writes(path: PathBuf) -> Effect {
    Effect::WritesFile { path }
}

fn opaque(out: &mut Vec<Effect>, reason: String) {
    out.push(Effect::Opaque { reason });
}

/// Adds the effects of program `name` run with `args`.
pub(crate) fn classify(
    walker: &mut Walker,
    name: &str,
    args: &[Word],
    site: &Site,
    out: &mut Vec<Effect>,
    place: &Place,
) {
    match name {
        _ if NO_FILE_EFFECTS.contains(&name) => {}
        _ if READS_OPERANDS.contains(&name) => read_operands(name, args, site, out),
        _ if WRITES_OPERANDS.contains(&name) => {
            let parsed = parse_options(args, &writer_options(name), false);
            paths_of(&parsed.operands, site, writes, out);
        }
        "chmod" | "chown" | "chgrp" => change_owner_or_mode(name, args, site, out),
        "man" => man(args, out),
        "date" => {
            let parsed = parse_options(args, &reader_options(name), false);
            option_files(name, &parsed, site, out);
        }
        "cp" | "mv" | "install" => copy_like(name, args, site, out),
        "ln" => {
            copy_like(name, args, site, out);
            record_links(walker, args, site);
        }
        "dd" => dd(args, site, out),
        "patch" => patch(args, site, out),
        "sed" => sed(args, site, out),
        "awk" | "gawk" | "mawk" | "nawk" => awk(name, args, site, out),
        "grep" | "egrep" | "fgrep" | "rg" | "ag" | "ack" => grep_like(name, args, site, out),
        "jq" => jq(args, site, out),
        "find" => find(walker, args, site, out, place),
        "tar" | "bsdtar" | "gtar" => archive::tar(args, site, out),
        "gzip" | "gunzip" | "bzip2" | "bunzip2" | "xz" | "unxz" | "zstd" | "unzstd" => {
            archive::compress(args, site, out)
        }
        "zip" | "unzip" => archive::zip(name, args, site, out),
        "export" | "declare" | "typeset" | "local" | "readonly" => declare(walker, name, args, out),
        "git" => network::git(args, site, out),
        _ if RUNS_HIDDEN_CODE.contains(&name) => {
            opaque(out, format!("`{name}` runs code that is not analysed"))
        }
        _ if is_interpreter(name) => interpreter(name, args, site, out),
        _ if network::is_network_program(name) => network::classify(name, args, site, out),
        _ if packages::is_package_manager(name) => packages::classify(name, args, site, out),
        _ if name.starts_with("pip") => packages::classify(name, args, site, out),
        _ => opaque(
            out,
            format!("`{name}` is not a known program, so its effects are not known"),
        ),
    }
}

/// Value-taking options of the programs in `WRITES_OPERANDS`.
fn writer_options(name: &str) -> OptionSpec {
    match name {
        // `--context[=CTX]` takes a value only after `=`.
        "mkdir" => OptionSpec {
            short_values: "m",
            long_values: &["mode"],
        },
        "touch" => OptionSpec {
            short_values: "drt",
            long_values: &["date", "reference", "time"],
        },
        "truncate" => OptionSpec {
            short_values: "rs",
            long_values: &["reference", "size"],
        },
        "shred" => OptionSpec {
            short_values: "ns",
            long_values: &["iterations", "size", "random-source"],
        },
        _ => OptionSpec {
            short_values: "",
            long_values: &[],
        },
    }
}

/// Value-taking options of the programs in `READS_OPERANDS`. Listing too
/// few is the safe error: an unlisted value reads as a path in the working
/// directory, while a wrongly listed one would hide the next path.
fn reader_options(name: &str) -> OptionSpec {
    match name {
        "head" | "tail" => OptionSpec {
            short_values: "nc",
            long_values: &["lines", "bytes"],
        },
        "cut" => OptionSpec {
            short_values: "bcdf",
            long_values: &["bytes", "characters", "delimiter", "fields"],
        },
        "sort" => OptionSpec {
            short_values: "koStT",
            long_values: &[
                "key",
                "output",
                "buffer-size",
                "field-separator",
                "temporary-directory",
                "files0-from",
                "random-source",
                "compress-program",
            ],
        },
        "wc" => OptionSpec {
            short_values: "",
            long_values: &["files0-from"],
        },
        "uniq" => OptionSpec {
            short_values: "fsw",
            long_values: &["skip-fields", "skip-chars", "check-chars"],
        },
        "ls" => OptionSpec {
            short_values: "ITw",
            long_values: &[
                "ignore", "hide", "tabsize", "width", "format", "sort", "time",
            ],
        },
        "du" => OptionSpec {
            short_values: "dBtX",
            long_values: &[
                "max-depth",
                "block-size",
                "threshold",
                "exclude",
                "exclude-from",
                "files0-from",
            ],
        },
        "tree" => OptionSpec {
            short_values: "LIPoHT",
            // Not `infofile`, because the flag `--info` would expand to it.
            long_values: &["gitfile", "charset", "filelimit", "timefmt", "sort"],
        },
        // `--context[=NUM]` and `--unified[=NUM]` take a value only after `=`.
        "diff" => OptionSpec {
            short_values: "CUxX",
            long_values: &["exclude", "exclude-from", "from-file", "to-file"],
        },
        "date" => OptionSpec {
            short_values: "dfrs",
            long_values: &["date", "file", "reference", "set"],
        },
        // Only the string options of less take a value here. Whether a
        // numeric option such as `-x` takes the next word is not checked, and
        // reading that word as an operand adds a read rather than hiding one.
        "less" => OptionSpec {
            short_values: "kopPtTO",
            long_values: &[
                "log-file",
                "LOG-FILE",
                "lesskey-file",
                "lesskey-src",
                "tag",
                "tag-file",
                "pattern",
                "prompt",
            ],
        },
        // The options of `less` that name files, for systems where `more` is
        // `less`. util-linux more has none of these letters, and its `-p` is
        // a flag.
        "more" => OptionSpec {
            short_values: "oOkT",
            long_values: &["log-file", "LOG-FILE", "lesskey-file", "tag-file"],
        },
        "hexdump" => OptionSpec {
            short_values: "efns",
            long_values: &["format", "format-file", "length", "skip"],
        },
        "xxd" => OptionSpec {
            short_values: "cglosn",
            long_values: &[],
        },
        "file" => OptionSpec {
            short_values: "mfFeP",
            long_values: &[
                "magic-file",
                "files-from",
                "separator",
                "exclude",
                "parameter",
            ],
        },
        "bat" => OptionSpec {
            short_values: "lHmr",
            long_values: &[
                "language",
                "highlight-line",
                "map-syntax",
                "line-range",
                "pager",
            ],
        },
        "fold" | "fmt" | "column" => OptionSpec {
            short_values: "wcst",
            long_values: &["width"],
        },
        _ => OptionSpec {
            short_values: "",
            long_values: &[],
        },
    }
}

/// The kind of file or program that an option's value names.
#[derive(Clone, Copy)]
enum OptionFile {
    Read,
    Written,
    /// A file that lists the names of more files to read, which the
    /// analysis cannot see.
    ListsNames,
    /// A program to run.
    Program,
}

/// Options of reading programs whose value is a file or a program, as
/// (program, short option, long option, what the value is).
const OPTION_FILES: &[(&str, &str, &str, OptionFile)] = &[
    ("sort", "-o", "--output", OptionFile::Written),
    ("sort", "-T", "--temporary-directory", OptionFile::Written),
    ("sort", "", "--files0-from", OptionFile::ListsNames),
    ("sort", "", "--random-source", OptionFile::Read),
    ("sort", "", "--compress-program", OptionFile::Program),
    ("wc", "", "--files0-from", OptionFile::ListsNames),
    ("du", "", "--files0-from", OptionFile::ListsNames),
    ("du", "-X", "--exclude-from", OptionFile::Read),
    ("diff", "-X", "--exclude-from", OptionFile::Read),
    ("diff", "", "--from-file", OptionFile::Read),
    ("diff", "", "--to-file", OptionFile::Read),
    ("date", "-f", "--file", OptionFile::Read),
    ("date", "-r", "--reference", OptionFile::Read),
    ("tree", "-o", "", OptionFile::Written),
    ("tree", "", "--gitfile", OptionFile::Read),
    ("tree", "", "--infofile", OptionFile::Read),
    ("less", "-o", "--log-file", OptionFile::Written),
    ("less", "-O", "--LOG-FILE", OptionFile::Written),
    ("less", "-k", "--lesskey-file", OptionFile::Read),
    ("less", "", "--lesskey-src", OptionFile::Read),
    ("less", "-T", "--tag-file", OptionFile::Read),
    ("file", "-m", "--magic-file", OptionFile::Read),
    ("file", "-f", "--files-from", OptionFile::ListsNames),
    ("hexdump", "-f", "--format-file", OptionFile::Read),
    ("bat", "", "--pager", OptionFile::Program),
];

/// Adds the effects of the options of `name` that name files or programs.
fn option_files(name: &str, parsed: &ParsedArgs, site: &Site, out: &mut Vec<Effect>) {
    // `more` is `less` on some systems, so the options of `less` count.
    let name = if name == "more" { "less" } else { name };
    for (option, value) in &parsed.options {
        let found = OPTION_FILES.iter().find(|(program, short, long, _)| {
            *program == name && (option == short || (!long.is_empty() && option == long))
        });
        let (Some((_, _, _, kind)), Some(value)) = (found, value) else {
            continue;
        };
        match kind {
            OptionFile::Read => path_effect(value, site, reads, out),
            OptionFile::Written => path_effect(value, site, writes, out),
            OptionFile::ListsNames => {
                path_effect(value, site, reads, out);
                let reason = format!("`{name} {option}` reads files named in `{}`", value.text);
                opaque(out, reason);
            }
            OptionFile::Program => {
                let reason = format!("`{name} {option}` runs the program `{}`", value.text);
                opaque(out, reason);
            }
        }
    }
}

fn read_operands(name: &str, args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let parsed = parse_options(args, &reader_options(name), false);
    option_files(name, &parsed, site, out);
    if name == "xxd" {
        // `xxd [-r] IN OUT` writes OUT. Every operand after the first is
        // taken as written, because a long word option such as `-cols 8`
        // leaves its value among the operands.
        if let Some((input, outputs)) = parsed.operands.split_first() {
            path_effect(input, site, reads, out);
            paths_of(outputs, site, writes, out);
        }
        return;
    }
    if matches!(name, "less" | "more") {
        less_commands(name, &parsed.operands, out);
    }
    if is_checksum(name) && has_option(&parsed, "-c", "--check") {
        let reason = format!("`{name} --check` reads the files its list names");
        opaque(out, reason);
    }
    if name == "uniq" {
        if let [input, output, ..] = parsed.operands.as_slice() {
            path_effect(input, site, reads, out);
            path_effect(output, site, writes, out);
            return;
        }
    }
    if parsed.operands.is_empty() && LISTS_CWD.contains(&name) {
        out.push(reads(site.cwd.clone()));
    }
    paths_of(&parsed.operands, site, reads, out);
}

/// Flags `less +CMD`, which runs less commands at start. Commands such as
/// `!` run a shell and `s` saves to a file, so only a line number or `G`
/// passes.
fn less_commands(name: &str, operands: &[Word], out: &mut Vec<Effect>) {
    for word in operands {
        let Some(command) = word.text.strip_prefix('+') else {
            continue;
        };
        let harmless = command.chars().all(|c| c.is_ascii_digit()) || command == "G";
        if !harmless || !word.known {
            let reason = format!("`{name} {}` runs commands of `{name}`", word.text);
            opaque(out, reason);
        }
    }
}

/// `man` reads its own pages, but options can name a pager or browser to
/// run (`-P`, `-H`), a local file (`-l`) or other page trees, so any option
/// but a few lookups makes it opaque.
fn man(args: &[Word], out: &mut Vec<Effect>) {
    let lookups = [
        "-k",
        "-f",
        "-w",
        "-a",
        "--apropos",
        "--whatis",
        "--where",
        "--all",
    ];
    let other = args
        .iter()
        .find(|word| word.is_option() && !lookups.contains(&word.text.as_str()));
    if let Some(option) = other {
        opaque(
            out,
            format!("`man {}` may run a pager or read a file", option.text),
        );
    }
}

fn is_checksum(name: &str) -> bool {
    name.ends_with("sum")
}

fn change_owner_or_mode(name: &str, args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "",
        long_values: &[],
    };
    let parsed = parse_options(args, &spec, false);
    let has_reference = has_option(&parsed, "", "--reference");
    // `chmod -x f` spells the mode like an option.
    let mode_as_option = name == "chmod"
        && args.iter().any(|word| {
            let letters = word.text.strip_prefix('-').unwrap_or_default();
            !letters.is_empty() && letters.chars().all(|c| "rwxXst".contains(c))
        });
    let skip = usize::from(!has_reference && !mode_as_option);
    paths_of(
        parsed.operands.get(skip..).unwrap_or_default(),
        site,
        writes,
        out,
    );
}

fn copy_like(name: &str, args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let spec = match name {
        "install" => OptionSpec {
            short_values: "gmotS",
            long_values: &["group", "mode", "owner", "target-directory", "suffix"],
        },
        _ => OptionSpec {
            short_values: "tS",
            long_values: &["target-directory", "suffix"],
        },
    };
    let parsed = parse_options(args, &spec, false);
    let target_directory = parsed
        .options
        .iter()
        .find(|(option, _)| is_option(option, "-t", "--target-directory"))
        .and_then(|(_, value)| value.clone());
    let makes_directories = name == "install" && has_option(&parsed, "-d", "--directory");
    if makes_directories {
        paths_of(&parsed.operands, site, writes, out);
        return;
    }
    let (sources, destination) = match (target_directory, parsed.operands.split_last()) {
        (Some(directory), _) => (parsed.operands.clone(), Some(directory)),
        (None, Some((last, rest))) if !rest.is_empty() => (rest.to_vec(), Some(last.clone())),
        (None, Some((only, _))) if name == "ln" => (vec![only.clone()], Some(Word::literal("."))),
        (None, _) => (parsed.operands.clone(), None),
    };
    match name {
        "mv" => paths_of(&sources, site, writes, out),
        "ln" => {}
        _ => paths_of(&sources, site, reads, out),
    }
    if let Some(destination) = destination {
        path_effect(&destination, site, writes, out);
    }
}

/// Remembers the links `ln` creates, so later paths through them resolve
/// to their targets. A hard link is followed the same way, because writing
/// to it changes the file it links to.
fn record_links(walker: &mut Walker, args: &[Word], site: &Site) {
    let spec = OptionSpec {
        short_values: "tS",
        long_values: &["target-directory", "suffix"],
    };
    let parsed = parse_options(args, &spec, false);
    let symbolic = has_option(&parsed, "-s", "--symbolic");
    let directory = parsed
        .options
        .iter()
        .find(|(option, _)| is_option(option, "-t", "--target-directory"))
        .and_then(|(_, value)| value.clone());
    let pairs: Vec<(Word, Option<Word>)> = match (&directory, parsed.operands.as_slice()) {
        (Some(directory), targets) => targets
            .iter()
            .map(|target| (target.clone(), Some(directory.clone())))
            .collect(),
        (None, [target]) => vec![(target.clone(), None)],
        (None, [target, name]) => vec![(target.clone(), Some(name.clone()))],
        (None, many) => match many.split_last() {
            Some((directory, targets)) => targets
                .iter()
                .map(|target| (target.clone(), Some(directory.clone())))
                .collect(),
            None => Vec::new(),
        },
    };
    for (target, name) in pairs {
        if !target.known || name.as_ref().is_some_and(|name| !name.known) {
            continue;
        }
        if walker.links.len() >= MAX_LINKS {
            let reason = format!("the command line creates more than {MAX_LINKS} links");
            if !walker.analysis.opaque.contains(&reason) {
                walker.analysis.opaque.push(reason);
            }
            return;
        }
        let file_name = target
            .text
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let link = match name {
            None => site.locate(&file_name),
            Some(name) => {
                let located = site.locate(&name.text);
                let into_directory =
                    directory.is_some() || located.is_dir() || name.text.ends_with('/');
                if into_directory {
                    located.join(&file_name)
                } else {
                    located
                }
            }
        };
        let base = if symbolic {
            link.parent()
                .map(PathBuf::from)
                .unwrap_or_else(|| site.cwd.clone())
        } else {
            site.cwd.clone()
        };
        let target_site = Site {
            cwd: base,
            ..site.clone()
        };
        let target_path = target_site.locate(&target.text);
        walker.links.push((link, target_path));
    }
}

/// `patch` changes the files a diff names, which the analysis cannot see, so
/// it is recorded as a write of the directory it works in.
fn patch(args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "dioprBDFVYzg",
        long_values: &["directory", "input", "output", "strip", "reject-file"],
    };
    let parsed = parse_options(args, &spec, false);
    let mut directory = Word::literal(".");
    for (option, value) in &parsed.options {
        match (option.as_str(), value) {
            ("-d" | "--directory", Some(value)) => directory = value.clone(),
            ("-i" | "--input", Some(value)) => path_effect(value, site, reads, out),
            ("-o" | "--output" | "-r" | "--reject-file", Some(value)) => {
                path_effect(value, site, writes, out)
            }
            _ => {}
        }
    }
    match parsed.operands.as_slice() {
        [] => path_effect(&directory, site, writes, out),
        [file, rest @ ..] => {
            path_effect(file, site, writes, out);
            paths_of(rest, site, reads, out);
        }
    }
}

/// Tells whether `parsed` contains the option `short` or `long`, the long one
/// possibly abbreviated.
fn has_option(parsed: &ParsedArgs, short: &str, long: &str) -> bool {
    parsed
        .options
        .iter()
        .any(|(option, _)| is_option(option, short, long))
}

fn dd(args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    for word in args {
        let Some((key, value)) = word.text.split_once('=') else {
            continue;
        };
        let value = Word {
            text: value.to_string(),
            ..word.clone()
        };
        match key {
            "if" => path_effect(&value, site, reads, out),
            "of" => path_effect(&value, site, writes, out),
            _ => {}
        }
    }
}

fn sed(args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let in_place = args.iter().any(|word| is_sed_in_place(&word.text));
    let spec = OptionSpec {
        short_values: "efl",
        long_values: &["expression", "file", "line-length"],
    };
    // `-i.bak` carries a suffix that would otherwise parse as more letters.
    let without_in_place: Vec<Word> = args
        .iter()
        .filter(|word| !word.text.starts_with("-i") && !is_long_in_place(&word.text))
        .cloned()
        .collect();
    let parsed = parse_options(&without_in_place, &spec, false);

    let mut scripts: Vec<Word> = Vec::new();
    let mut has_script_file = false;
    for (option, value) in &parsed.options {
        match (option.as_str(), value) {
            ("-e" | "--expression", Some(value)) => scripts.push(value.clone()),
            ("-f" | "--file", Some(value)) => {
                has_script_file = true;
                path_effect(value, site, reads, out);
                let reason = format!(
                    "`sed -f {}` runs a script file that is not analysed",
                    value.text
                );
                opaque(out, reason);
            }
            _ => {}
        }
    }

    let mut files = parsed.operands.clone();
    if scripts.is_empty() && !has_script_file && !files.is_empty() {
        scripts.push(files.remove(0));
    }
    for script in &scripts {
        if !script.known || sed_script_runs_or_writes(&script.text) {
            let reason = format!(
                "the sed script `{}` may write files or run commands",
                script.text
            );
            opaque(out, reason);
        }
    }
    let make = if in_place { writes } else { reads };
    paths_of(&files, site, make, out);
}

fn is_sed_in_place(text: &str) -> bool {
    let is_short_cluster = text.starts_with('-') && !text.starts_with("--");
    is_long_in_place(text) || (is_short_cluster && text.contains('i'))
}

/// `--in-place`, abbreviated or not, with or without `=SUFFIX`.
fn is_long_in_place(text: &str) -> bool {
    let name = text.split('=').next().unwrap_or(text);
    name.starts_with("--") && is_option(name, "-i", "--in-place")
}

/// Tells whether a sed script may use the `w`/`W` (write file) or `e`
/// (execute) commands or `s` flags. Such a letter counts when it follows a
/// command boundary or another `s` flag and ends the word.
// NOTE: a heuristic on the script text, not a sed parser. It errs toward
// reporting, for example on `/page /` where `e` ends a word.
fn sed_script_runs_or_writes(script: &str) -> bool {
    let characters: Vec<char> = script.chars().collect();
    characters.iter().enumerate().any(|(index, character)| {
        if !matches!(character, 'w' | 'W' | 'e') {
            return false;
        }
        let previous = index
            .checked_sub(1)
            .and_then(|before| characters.get(before));
        let next = characters.get(index + 1);
        let after_boundary = previous.is_none_or(|previous| {
            matches!(
                previous,
                ' ' | ';' | '\n' | '/' | '}' | '{' | '|' | ',' | '!' | '$'
            ) || previous.is_ascii_digit()
                || "gpiImM".contains(*previous)
        });
        let before_end = next.is_none_or(|next| matches!(next, ' ' | ';' | '}' | '\n'));
        after_boundary && before_end
    })
}

/// `jq FILTER FILES...`, or `jq -f PROGRAM FILES...` where every operand
/// is an input file. `--rawfile` and `--slurpfile` take a name and a file,
/// so their file is left among the operands and read as one.
fn jq(args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "fL",
        long_values: &["from-file", "indent", "arg", "argjson"],
    };
    let parsed = parse_options(args, &spec, false);
    let mut from_file = false;
    for (option, value) in &parsed.options {
        let names_file = is_option(option, "-f", "--from-file") || option == "-L";
        if let (true, Some(value)) = (names_file, value) {
            from_file |= option != "-L";
            path_effect(value, site, reads, out);
        }
    }
    let skip = usize::from(!from_file);
    paths_of(
        parsed.operands.get(skip..).unwrap_or_default(),
        site,
        reads,
        out,
    );
}

fn awk(name: &str, args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "fvFilE",
        long_values: &[
            "file",
            "assign",
            "field-separator",
            "include",
            "load",
            "exec",
        ],
    };
    let parsed = parse_options(args, &spec, false);
    if has_option(&parsed, "-f", "--file") {
        opaque(
            out,
            format!("`{name} -f` runs a program file that is not analysed"),
        );
        return;
    }
    // gawk loads source files and extensions, and `-i inplace` rewrites
    // every input file.
    let loads = [("-i", "--include"), ("-l", "--load"), ("-E", "--exec")]
        .iter()
        .find(|(short, long)| has_option(&parsed, short, long));
    if let Some((_, long)) = loads {
        opaque(
            out,
            format!("`{name} {long}` loads code that is not analysed"),
        );
        return;
    }
    let Some((program, files)) = parsed.operands.split_first() else {
        return;
    };
    let risky = ["system", "|", ">", "getline", "close"];
    if !program.known || risky.iter().any(|word| program.text.contains(word)) {
        opaque(
            out,
            format!(
                "the {name} program `{}` may write files or run commands",
                program.text
            ),
        );
    }
    let files: Vec<Word> = files
        .iter()
        .filter(|word| !word.text.contains('='))
        .cloned()
        .collect();
    paths_of(&files, site, reads, out);
}

fn grep_like(name: &str, args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let short_values = if name == "rg" {
        "efABCmdDgtTMjEr"
    } else {
        "efABCmdD"
    };
    let spec = OptionSpec {
        short_values,
        long_values: &[
            "regexp",
            "file",
            "after-context",
            "before-context",
            "context",
            "max-count",
            "include",
            "exclude",
            "exclude-dir",
            "glob",
            "type",
            "type-not",
            "max-depth",
            "threads",
            "replace",
            "pre",
            "label",
        ],
    };
    let parsed = parse_options(args, &spec, false);
    if parsed.options.iter().any(|(option, _)| option == "--pre") {
        opaque(out, format!("`{name} --pre` runs a preprocessor command"));
    }
    let mut has_pattern = false;
    for (option, value) in &parsed.options {
        match (option.as_str(), value) {
            ("-e" | "--regexp", _) => has_pattern = true,
            ("-f" | "--file", Some(value)) => {
                has_pattern = true;
                path_effect(value, site, reads, out);
            }
            _ => {}
        }
    }
    let skip = usize::from(!has_pattern);
    let files = parsed.operands.get(skip..).unwrap_or_default();
    let searches_cwd = matches!(name, "rg" | "ag" | "ack")
        || has_option(&parsed, "-r", "--recursive")
        || has_option(&parsed, "-R", "--dereference-recursive");
    if files.is_empty() && searches_cwd {
        out.push(reads(site.cwd.clone()));
    }
    paths_of(files, site, reads, out);
}

/// `find ROOTS... EXPRESSION`: roots are read; `-delete` and `-fprint*`
/// write; `-exec` and `-ok` commands are analysed with `{}` standing for
/// each root, since every match lies beneath one.
fn find(walker: &mut Walker, args: &[Word], site: &Site, out: &mut Vec<Effect>, place: &Place) {
    // `-H`, `-L`, `-P`, `-D debug` and `-O level` come before the roots.
    let mut first_root = 0;
    while let Some(word) = args.get(first_root) {
        match word.text.as_str() {
            "-H" | "-L" | "-P" => first_root += 1,
            "-D" => first_root += 2,
            text if text.starts_with("-O") => first_root += 1,
            _ => break,
        }
    }
    let args = args.get(first_root..).unwrap_or_default();
    let split = args
        .iter()
        .position(|word| word.text.starts_with('-') || word.text == "(" || word.text == "!");
    let (mut roots, expression) = args.split_at(split.unwrap_or(args.len()));
    let default_root = [Word::literal(".")];
    if roots.is_empty() {
        roots = &default_root;
    }
    paths_of(roots, site, reads, out);
    let mut index = 0;
    while let Some(word) = expression.get(index) {
        index += 1;
        match word.text.as_str() {
            "-delete" => paths_of(roots, site, writes, out),
            "-fprint" | "-fprint0" | "-fprintf" | "-fls" => {
                if let Some(file) = expression.get(index) {
                    path_effect(file, site, writes, out);
                }
            }
            "-files0-from" => {
                if let Some(file) = expression.get(index) {
                    path_effect(file, site, reads, out);
                }
                opaque(
                    out,
                    "`find -files0-from` reads its roots from a file".into(),
                );
            }
            "-exec" | "-execdir" | "-ok" | "-okdir" => {
                let end = expression
                    .get(index..)
                    .unwrap_or_default()
                    .iter()
                    .position(|word| word.text == ";" || word.text == "+");
                let stop = end.map(|offset| index + offset).unwrap_or(expression.len());
                let inner = expression.get(index..stop).unwrap_or_default();
                let clause_bytes: usize = inner.iter().map(|word| word.text.len() + 1).sum();
                for root in roots {
                    if !walker.take_repeat(clause_bytes + root.text.len()) {
                        break;
                    }
                    find_exec(walker, inner, root, place);
                }
                index = stop + 1;
            }
            _ => {}
        }
    }
}

fn find_exec(walker: &mut Walker, inner: &[Word], root: &Word, place: &Place) {
    let words: Vec<Word> = inner
        .iter()
        .map(|word| {
            if word.text.contains("{}") {
                Word {
                    text: word.text.replace("{}", &root.text),
                    known: word.known && root.known,
                    ..word.clone()
                }
            } else {
                word.clone()
            }
        })
        .collect();
    let text = words
        .iter()
        .map(|word| word.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let invocation = Invocation {
        words,
        text,
        ..Invocation::default()
    };
    command::run(walker, invocation, &mut place.clone());
}

/// `export NAME=value` and friends: loader variables make the rest of the
/// command line opaque.
fn declare(walker: &mut Walker, name: &str, args: &[Word], out: &mut Vec<Effect>) {
    for word in args {
        let variable = word
            .text
            .split_once('=')
            .map(|(variable, _)| variable)
            .unwrap_or(&word.text);
        if is_loader_variable(variable) {
            let reason =
                format!("`{name}` sets `{variable}`, which changes what programs load or run");
            walker.analysis.opaque.push(reason.clone());
            opaque(out, reason);
        }
    }
    if name == "export" && args.iter().any(|word| word.text == "-f") {
        opaque(out, "`export -f` exports a shell function".into());
    }
}

fn is_interpreter(name: &str) -> bool {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    INTERPRETERS.contains(&name) || INTERPRETERS.contains(&stem)
}

fn interpreter(name: &str, args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let is_python = name.starts_with("python");
    if is_python {
        if let [flag, module, rest @ ..] = args {
            if flag.text == "-m" && module.text == "pip" {
                packages::classify("pip", rest, site, out);
                return;
            }
        }
    }
    let only_queries = !args.is_empty()
        && args.iter().all(|word| {
            matches!(
                word.text.as_str(),
                "--version" | "-V" | "-v" | "--help" | "-h"
            )
        });
    if only_queries {
        return;
    }
    let reason = match args.first().map(|word| word.text.as_str()) {
        Some(flag @ ("-c" | "-e" | "-E" | "-p" | "--eval" | "--print" | "-r")) => {
            format!("`{name} {flag}` runs inline code")
        }
        Some(script) if !script.starts_with('-') => format!("`{name}` runs the script `{script}`"),
        Some(_) => format!("`{name}` runs code that is not analysed"),
        None => format!("`{name}` reads code from standard input"),
    };
    opaque(out, reason);
}
