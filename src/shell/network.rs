//! Programs that reach the network, and `git`, whose subcommands either stay
//! in the repository or talk to a remote.

use super::options::{is_option, parse_options, OptionSpec, ParsedArgs};
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
        "gh" => github_cli(args, site, out),
        "aria2c" => {
            for url in args.iter().filter(|word| !word.is_option()) {
                network(out, url);
            }
            out.push(Effect::Opaque {
                reason: "`aria2c` writes files and runs hooks that are not analysed".into(),
            });
        }
        "http" | "https" | "xh" => httpie(name, args, site, out),
        "ssh" | "sftp" => {
            let spec = OptionSpec {
                short_values: "BbcDEeFIiJLlmOoPpRSWw",
                long_values: &[],
            };
            let parsed = parse_options(args, &spec, true);
            // `-E` appends ssh's log to a file and `-S` creates a control
            // socket. Keys read with `-i` are not sent, like the default ones.
            for (option, value) in &parsed.options {
                if let ("-E" | "-S", Some(value)) = (option.as_str(), value) {
                    path_effect(value, site, writes, out);
                }
            }
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
            let is_netcat = matches!(name, "nc" | "ncat" | "netcat");
            let spec = OptionSpec {
                short_values: if is_netcat {
                    "cipqswWtTmfxebo"
                } else {
                    "cipqswWtTmfxeb"
                },
                long_values: &[
                    "exec",
                    "sh-exec",
                    "lua-exec",
                    "output",
                    "hex-dump",
                    "proxy",
                    "proxy-type",
                    "source",
                    "source-port",
                    "wait",
                    "idle-timeout",
                ],
            };
            let parsed = parse_options(args, &spec, false);
            if is_netcat || name == "dig" {
                other_option_files(name, &parsed, site, out);
            }
            match parsed.operands.first() {
                Some(host) => network(out, host),
                None => out.push(Effect::Network {
                    target: format!("{name} (no host given)"),
                }),
            }
            let runs_program = parsed.options.iter().any(|(option, _)| {
                matches!(option.as_str(), "-e" | "-c")
                    || ["--exec", "--sh-exec", "--lua-exec"]
                        .iter()
                        .any(|long| is_option(option, "", long))
            });
            if runs_program || name == "socat" {
                let reason = format!("`{name}` can connect a program to the network");
                out.push(Effect::Opaque { reason });
            }
        }
    }
}

/// Files that the options of nc, ncat or dig name: nc dumps traffic to
/// `-o FILE`, and dig reads queries or a key from `-f` and `-k`. nc's `-x`
/// is a dump file for ncat but a proxy for OpenBSD nc, so it is opaque.
fn other_option_files(name: &str, parsed: &ParsedArgs, site: &Site, out: &mut Vec<Effect>) {
    for (option, value) in &parsed.options {
        match (name, option.as_str(), value) {
            ("dig", "-f" | "-k", Some(value)) => path_effect(value, site, reads, out),
            ("dig", _, _) => {}
            (_, "-o" | "--output" | "--hex-dump", Some(value)) => {
                path_effect(value, site, writes, out)
            }
            (_, "-x" | "--proxy", _) => out.push(Effect::Opaque {
                reason: format!("`{name} {option}` names a proxy or a dump file"),
            }),
            _ => {}
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

/// The kind of file or program that a download tool's option value names.
#[derive(Clone, Copy)]
enum Value {
    /// A file the tool writes (`curl -o`).
    Written,
    /// A file the tool reads, which it may also send (`wget --post-file`).
    Read,
    /// `@FILE`, read and sent when the value starts with `@` (`curl -d`).
    AtFile,
    /// `NAME@FILE` or `@FILE`, read when `@` comes before any `=`
    /// (`curl --data-urlencode`).
    NamedAtFile,
    /// `NAME=@FILE` or `NAME=<FILE`, with `;type=...` after it (`curl -F`).
    FormFile,
    /// A file unless the value contains `=` (`curl -b`).
    CookieFile,
    /// A file the tool uploads, where `{a,b}` and `[1-3]` expand to more.
    Upload,
    /// Options or programs the analysis cannot follow.
    Opaque(&'static str),
}

/// File-valued options of curl, as (short, long, what the value names).
const CURL_FILES: &[(&str, &str, Value)] = &[
    ("-o", "--output", Value::Written),
    ("-c", "--cookie-jar", Value::Written),
    ("-D", "--dump-header", Value::Written),
    ("", "--trace", Value::Written),
    ("", "--trace-ascii", Value::Written),
    ("", "--stderr", Value::Written),
    ("", "--libcurl", Value::Written),
    ("", "--etag-save", Value::Written),
    ("", "--hsts", Value::Written),
    ("", "--alt-svc", Value::Written),
    ("-T", "--upload-file", Value::Upload),
    ("-d", "--data", Value::AtFile),
    ("", "--data-binary", Value::AtFile),
    ("", "--data-ascii", Value::AtFile),
    ("", "--json", Value::AtFile),
    ("-H", "--header", Value::AtFile),
    ("", "--proxy-header", Value::AtFile),
    ("-w", "--write-out", Value::AtFile),
    ("", "--data-urlencode", Value::NamedAtFile),
    ("", "--url-query", Value::NamedAtFile),
    ("", "--variable", Value::NamedAtFile),
    ("-F", "--form", Value::FormFile),
    ("-b", "--cookie", Value::CookieFile),
    ("", "--etag-compare", Value::Read),
    ("", "--netrc-file", Value::Read),
    ("-E", "--cert", Value::Read),
    ("", "--key", Value::Read),
    ("", "--cacert", Value::Read),
    ("", "--capath", Value::Read),
    ("-K", "--config", Value::Opaque("reads options from a file")),
    (
        "",
        "--unix-socket",
        Value::Opaque("connects to a local socket"),
    ),
    (
        "",
        "--abstract-unix-socket",
        Value::Opaque("connects to a local socket"),
    ),
];

const CURL_LONG_VALUES: &[&str] = &[
    "output",
    "output-dir",
    "upload-file",
    "data",
    "data-binary",
    "data-ascii",
    "data-raw",
    "data-urlencode",
    "json",
    "url-query",
    "variable",
    "header",
    "proxy-header",
    "request",
    "user",
    "user-agent",
    "referer",
    "cookie",
    "cookie-jar",
    "form",
    "form-string",
    "config",
    "range",
    "write-out",
    "max-time",
    "proxy",
    "cert",
    "key",
    "cacert",
    "capath",
    "dump-header",
    "url",
    "connect-timeout",
    "retry",
    "trace",
    "trace-ascii",
    "stderr",
    "libcurl",
    "etag-save",
    "etag-compare",
    "hsts",
    "alt-svc",
    "netrc-file",
    "unix-socket",
    "abstract-unix-socket",
];

fn curl(args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "oTdHXuAebcFKrwmxEyYzCDQtU",
        long_values: CURL_LONG_VALUES,
    };
    let parsed = parse_options(args, &spec, false);
    let mut urls: Vec<Word> = parsed.operands.clone();
    let mut remote_name = false;
    let output_dir = parsed
        .options
        .iter()
        .rev()
        .find(|(option, _)| option == "--output-dir")
        .and_then(|(_, value)| value.clone());
    for (option, value) in &parsed.options {
        match (option.as_str(), value) {
            ("-o" | "--output", Some(value)) => {
                path_effect(
                    &in_output_dir(value, output_dir.as_ref()),
                    site,
                    writes,
                    out,
                );
            }
            ("-w" | "--write-out", Some(value)) if value.text.contains("%output{") => {
                out.push(Effect::Opaque {
                    reason: "`curl --write-out %output{...}` writes a file it names".into(),
                });
            }
            ("--url", Some(value)) => urls.push(value.clone()),
            ("-O" | "--remote-name" | "--remote-name-all", _) => remote_name = true,
            (option, _) if is_option(option, "", "--remote-name") => remote_name = true,
            (option, Some(value)) => value_files(CURL_FILES, "curl", option, value, site, out),
            _ => {}
        }
    }
    for url in &urls {
        network(out, url);
        if remote_name {
            let file = Word {
                text: url_file_name(&url.text),
                ..url.clone()
            };
            path_effect(
                &in_output_dir(&file, output_dir.as_ref()),
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

/// `curl --output-dir DIR` puts `-o` and `-O` files below DIR. curl 7.88
/// joins the two even when the file name is absolute.
fn in_output_dir(file: &Word, directory: Option<&Word>) -> Word {
    match directory {
        Some(directory) if file.text != "-" => Word {
            text: format!("{}/{}", directory.text.trim_end_matches('/'), file.text),
            known: file.known && directory.known,
            ..file.clone()
        },
        _ => file.clone(),
    }
}

/// Adds the effects of one option of `program` that `table` lists.
fn value_files(
    table: &[(&str, &str, Value)],
    program: &str,
    option: &str,
    value: &Word,
    site: &Site,
    out: &mut Vec<Effect>,
) {
    let found = table
        .iter()
        .find(|(short, long, _)| option == *short || (!long.is_empty() && option == *long));
    let Some((_, _, kind)) = found else {
        return;
    };
    let files = match kind {
        Value::Written => {
            path_effect(value, site, writes, out);
            return;
        }
        Value::Opaque(what) => {
            out.push(Effect::Opaque {
                reason: format!("`{program} {option}` {what}"),
            });
            return;
        }
        Value::Upload if value.text.contains(['{', '[']) => {
            out.push(Effect::Opaque {
                reason: format!("`{program} {option} {}` uploads a file pattern", value.text),
            });
            return;
        }
        Value::Read | Value::Upload => vec![value.text.clone()],
        Value::AtFile => value
            .text
            .strip_prefix('@')
            .map(|file| vec![file.to_string()])
            .unwrap_or_default(),
        Value::NamedAtFile => named_at_file(&value.text).into_iter().collect(),
        Value::FormFile => form_files(&value.text),
        Value::CookieFile if value.text.contains('=') => Vec::new(),
        Value::CookieFile => vec![value.text.clone()],
    };
    for file in files {
        let word = Word {
            text: file,
            ..value.clone()
        };
        path_effect(&word, site, reads, out);
    }
}

/// Returns the file of `NAME@FILE` or `@FILE`. curl reads a file only when
/// `@` comes before any `=`.
fn named_at_file(text: &str) -> Option<String> {
    let at = text.find('@')?;
    let is_content = text.find('=').is_some_and(|equals| equals < at);
    (!is_content).then(|| text.get(at + 1..).unwrap_or_default().to_string())
}

/// Lists the files of a form part `NAME=@FILE;type=...` or `NAME=<FILE`.
/// A quoted name is taken whole. Otherwise every way curl may split the
/// rest at `;` or `,` is listed, so a split that hides a path still reads it.
fn form_files(text: &str) -> Vec<String> {
    let Some((_, rest)) = text.split_once('=') else {
        return Vec::new();
    };
    // `;headers=@FILE` reads the part's headers from a file.
    let mut files: Vec<String> = rest
        .split(';')
        .filter_map(|part| part.trim().strip_prefix("headers="))
        .filter_map(|file| file.strip_prefix('@').or_else(|| file.strip_prefix('<')))
        .map(str::to_string)
        .collect();
    let Some(body) = rest.strip_prefix('@').or_else(|| rest.strip_prefix('<')) else {
        return files;
    };
    if let Some(quoted) = body.strip_prefix('"') {
        let end = quoted.find('"').unwrap_or(quoted.len());
        files.push(quoted.get(..end).unwrap_or(quoted).replace('\\', ""));
        return files;
    }
    files.push(body.to_string());
    let before_type = body.split(';').next().unwrap_or(body);
    files.push(before_type.to_string());
    files.extend(before_type.split(',').map(str::to_string));
    files.sort();
    files.dedup();
    files
}

/// File-valued options of wget; `-O` is handled apart because it replaces
/// the file a URL would be saved to.
const WGET_FILES: &[(&str, &str, Value)] = &[
    ("-o", "--output-file", Value::Written),
    ("-a", "--append-output", Value::Written),
    ("", "--save-cookies", Value::Written),
    ("", "--rejected-log", Value::Written),
    ("", "--hsts-file", Value::Written),
    ("", "--warc-tempdir", Value::Written),
    ("", "--post-file", Value::Read),
    ("", "--body-file", Value::Read),
    ("", "--load-cookies", Value::Read),
    ("", "--ca-certificate", Value::Read),
    ("", "--ca-directory", Value::Read),
    ("", "--certificate", Value::Read),
    ("", "--private-key", Value::Read),
    ("", "--crl-file", Value::Read),
    ("", "--warc-dedup", Value::Read),
    ("", "--config", Value::Opaque("reads options from a file")),
    (
        "",
        "--use-askpass",
        Value::Opaque("runs a program for passwords"),
    ),
    ("-e", "--execute", Value::Opaque("runs .wgetrc commands")),
];

const WGET_LONG_VALUES: &[&str] = &[
    "output-document",
    "output-file",
    "append-output",
    "directory-prefix",
    "input-file",
    "input-metalink",
    "user-agent",
    "header",
    "tries",
    "timeout",
    "warc-file",
    "warc-tempdir",
    "warc-dedup",
    "save-cookies",
    "load-cookies",
    "rejected-log",
    "hsts-file",
    "post-file",
    "body-file",
    "post-data",
    "body-data",
    "method",
    "config",
    "use-askpass",
    "ca-certificate",
    "ca-directory",
    "certificate",
    "private-key",
    "crl-file",
    "execute",
    "base",
    "accept",
    "reject",
    "domains",
    "exclude-domains",
    "level",
    "user",
    "password",
    "referer",
];

fn wget(args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "OoPiaeUTtwQARDIXlB",
        long_values: WGET_LONG_VALUES,
    };
    let parsed = parse_options(args, &spec, false);
    let mut document: Option<Word> = None;
    let mut directory = Word::literal(".");
    for (option, value) in &parsed.options {
        match (option.as_str(), value) {
            ("-O" | "--output-document", Some(value)) => document = Some(value.clone()),
            ("-P" | "--directory-prefix", Some(value)) => directory = value.clone(),
            ("-i" | "--input-file" | "--input-metalink", Some(value)) => {
                path_effect(value, site, reads, out);
                out.push(Effect::Opaque {
                    reason: "`wget -i` reads its URLs from a file".into(),
                });
            }
            // The archive is FILE.warc.gz, next to FILE.
            ("--warc-file", Some(value)) => {
                let archive = Word {
                    text: format!("{}.warc.gz", value.text),
                    ..value.clone()
                };
                path_effect(&archive, site, writes, out);
            }
            (option, Some(value)) => value_files(WGET_FILES, "wget", option, value, site, out),
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

const HTTPIE_LONG_VALUES: &[&str] = &[
    "auth",
    "auth-type",
    "output",
    "session",
    "session-read-only",
    "verify",
    "cert",
    "cert-key",
    "proxy",
    "print",
    "pretty",
    "style",
    "timeout",
    "max-redirects",
    "format-options",
    "boundary",
    "default-scheme",
    "response-charset",
    "response-mime",
    "raw",
    "ssl",
    "ciphers",
];

/// HTTPie (`http`, `https`) and xh: `[METHOD] URL [ITEM...]`. An item with
/// `@` (`field@FILE`, `field=@FILE`, `field:=@FILE`, `Header:@FILE`) sends
/// a file, `-o FILE` writes the response, and `-d` saves it in the working
/// directory.
fn httpie(name: &str, args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "aAopsv",
        long_values: HTTPIE_LONG_VALUES,
    };
    let parsed = parse_options(args, &spec, false);
    let (output, download) = httpie_options(name, &parsed, site, out);

    let urls = httpie_urls(&parsed.operands);
    let Some(url) = urls.last() else {
        out.push(Effect::Opaque {
            reason: format!("`{name}` without a URL"),
        });
        return;
    };
    for url in urls {
        network(out, &httpie_target(url));
    }

    // Every operand is checked, because a URL can be taken for a method.
    // A URL's `user@` only adds a read of a path below the working directory.
    for item in &parsed.operands {
        read_after_at(item, site, out);
    }

    match output {
        Some(output) => path_effect(&output, site, writes, out),
        None if download => {
            let file = Word {
                text: url_file_name(&url.text),
                ..url.clone()
            };
            path_effect(&file, site, writes, out);
        }
        None => {}
    }
}

/// Adds the effects of HTTPie's options and returns the `-o` file and
/// whether `-d` downloads the response.
fn httpie_options(
    name: &str,
    parsed: &ParsedArgs,
    site: &Site,
    out: &mut Vec<Effect>,
) -> (Option<Word>, bool) {
    let mut output = None;
    let mut download = false;
    for (option, value) in &parsed.options {
        match (option.as_str(), value) {
            ("-o" | "--output", Some(value)) => output = Some(value.clone()),
            ("-d" | "--download", _) => download = true,
            ("--cert" | "--cert-key", Some(value)) => path_effect(value, site, reads, out),
            ("--session" | "--session-read-only", Some(value)) if value.text.contains('/') => {
                path_effect(value, site, writes, out)
            }
            ("--session" | "--session-read-only" | "--proxy", _) => out.push(Effect::Opaque {
                reason: format!("`{name} {option}` uses a file or a proxy that is not analysed"),
            }),
            _ => {}
        }
    }
    (output, download)
}

/// Returns the operands that may be the URL. Whether a lowercase word such
/// as `get` is a method or a host is left to the tool, so a word of letters
/// alone counts as both.
fn httpie_urls(operands: &[Word]) -> &[Word] {
    let letters_only =
        |word: &Word| !word.text.is_empty() && word.text.chars().all(|c| c.is_ascii_alphabetic());
    let hosts = match operands {
        [first, ..] if first.text.chars().all(|c| c.is_ascii_uppercase()) => 1..2,
        [first, ..] if letters_only(first) => 0..2,
        _ => 0..1,
    };
    operands
        .get(hosts.clone())
        .or_else(|| operands.get(hosts.start..))
        .unwrap_or_default()
}

/// Reads the part of `word` after its first `@` as a path (`key=@FILE`).
fn read_after_at(word: &Word, site: &Site, out: &mut Vec<Effect>) {
    if let Some((_, file)) = word.text.split_once('@') {
        let file = Word {
            text: file.to_string(),
            ..word.clone()
        };
        path_effect(&file, site, reads, out);
    }
}

/// Returns the host HTTPie reaches for `url`; `:3000/path` is its shorthand
/// for localhost.
fn httpie_target(url: &Word) -> Word {
    let text = match url.text.strip_prefix(':') {
        Some(rest) => format!("localhost:{rest}"),
        None => url.text.clone(),
    };
    Word {
        text,
        ..url.clone()
    }
}

/// Long rsync options that take a value. `--backup-dir`, `--partial-dir`,
/// `--checksum-choice` and `--compress-choice` are left out, because the
/// flags `--backup`, `--partial`, `--checksum` and `--compress` would expand
/// to them and take the next word. Their `=VALUE` form is still read.
const RSYNC_LONG_VALUES: &[&str] = &[
    "rsh",
    "exclude",
    "include",
    "filter",
    "rsync-path",
    "temp-dir",
    "files-from",
    "exclude-from",
    "include-from",
    "password-file",
    "read-batch",
    "write-batch",
    "only-write-batch",
    "log-file",
    "log-file-format",
    "compare-dest",
    "copy-dest",
    "link-dest",
    "suffix",
    "chmod",
    "chown",
    "usermap",
    "groupmap",
    "out-format",
    "timeout",
    "contimeout",
    "bwlimit",
    "max-size",
    "min-size",
    "port",
    "sockopts",
    "info",
    "debug",
    "protocol",
    "iconv",
    "skip-compress",
    "remote-option",
];

/// File-valued rsync options. `crate::hazards` makes some of them opaque as
/// well, while these add the paths, so a write outside is denied.
const RSYNC_FILES: &[(&str, &str, Value)] = &[
    ("", "--log-file", Value::Written),
    ("", "--backup-dir", Value::Written),
    ("", "--temp-dir", Value::Written),
    ("", "--partial-dir", Value::Written),
    ("", "--compare-dest", Value::Read),
    ("", "--copy-dest", Value::Read),
    ("", "--link-dest", Value::Written),
    ("", "--exclude-from", Value::Read),
    ("", "--include-from", Value::Read),
    ("", "--password-file", Value::Read),
    ("", "--read-batch", Value::Read),
    ("", "--write-batch", Value::Written),
    ("", "--only-write-batch", Value::Written),
];

/// Tells whether an rsync filter rule merges rules from a file
/// (`merge FILE`, `. FILE`, `dir-merge NAME`, `: NAME`).
fn merges_rules(rule: &str) -> bool {
    let keyword = rule.split([' ', '_', ',']).next().unwrap_or(rule);
    keyword.starts_with('.')
        || keyword.starts_with(':')
        || keyword == "merge"
        || keyword == "dir-merge"
}

/// Command groups of the GitHub CLI. Any other name is an alias, which may
/// run a shell command, or an extension, which runs its own code.
const GH_GROUPS: &[&str] = &[
    "api",
    "attestation",
    "browse",
    "cache",
    "completion",
    "gist",
    "gpg-key",
    "help",
    "issue",
    "label",
    "org",
    "pr",
    "project",
    "release",
    "repo",
    "ruleset",
    "run",
    "search",
    "secret",
    "ssh-key",
    "status",
    "variable",
    "version",
    "workflow",
];

/// `gh GROUP SUBCOMMAND ...` reaches GitHub and may change the working
/// directory. Its subcommands upload files named as operands (`gist create`,
/// `release upload`) or as option values (`--body-file`, `-F key=@FILE`),
/// so every operand and value is also read as a path, which adds only
/// harmless reads below the working directory for plain words.
fn github_cli(args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    out.push(Effect::Network {
        target: "github.com".into(),
    });
    out.push(writes(site.cwd.clone()));

    let spec = OptionSpec {
        short_values: "DO",
        long_values: &[
            "dir",
            "output",
            "input",
            "body-file",
            "field",
            "raw-field",
            "hostname",
            "env-file",
            "header",
            "jq",
            "template",
            "title",
            "body",
            "repo",
            "method",
        ],
    };
    let parsed = parse_options(args, &spec, false);
    for (option, value) in &parsed.options {
        match (option.as_str(), value) {
            ("-D" | "--dir" | "-O" | "--output", Some(value)) => {
                path_effect(value, site, writes, out)
            }
            ("--hostname", Some(value)) => network(out, value),
            (_, Some(value)) => github_paths(value, site, out),
            _ => {}
        }
    }

    let operands = parsed.operands.as_slice();
    let group = operands.first().map(|word| word.text.as_str());
    let subcommand = operands.get(1).map(|word| word.text.as_str());
    if is_hidden_gh_command(group, subcommand) {
        out.push(Effect::Opaque {
            reason: format!(
                "`gh {}` runs an alias or extension, or changes gh's setup",
                group.unwrap_or_default()
            ),
        });
    }

    if let (Some("repo" | "gist"), Some("clone"), Some(directory)) =
        (group, subcommand, operands.get(3))
    {
        path_effect(directory, site, writes, out);
    }
    for operand in operands.get(2..).unwrap_or_default() {
        github_paths(operand, site, out);
    }
}

/// Tells whether `gh GROUP SUBCOMMAND` runs an alias or extension, or
/// changes gh's setup (logins, or a pager or editor in its configuration).
fn is_hidden_gh_command(group: Option<&str>, subcommand: Option<&str>) -> bool {
    match (group, subcommand) {
        (Some("auth"), Some("status" | "token")) => false,
        (Some("config"), Some("get" | "list")) => false,
        (Some("auth" | "config"), _) => true,
        (Some(group), _) => !GH_GROUPS.contains(&group),
        (None, _) => false,
    }
}

/// Reads `word` as a path, and the part after `@` as one too (`key=@FILE`).
fn github_paths(word: &Word, site: &Site, out: &mut Vec<Effect>) {
    path_effect(word, site, reads, out);
    read_after_at(word, site, out);
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
            short_values: "efTBM",
            long_values: RSYNC_LONG_VALUES,
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
    for (option, value) in &parsed.options {
        match (name, option.as_str(), value) {
            ("scp", "-i" | "-F", Some(value)) => path_effect(value, site, reads, out),
            ("scp", _, _) => {}
            (_, "-f" | "--filter", Some(value)) if merges_rules(&value.text) => {
                out.push(Effect::Opaque {
                    reason: format!("`rsync {option}` merges rules from a file"),
                });
            }
            (_, "--files-from", Some(value)) => {
                path_effect(value, site, reads, out);
                out.push(Effect::Opaque {
                    reason: "`rsync --files-from` copies files named in a list".into(),
                });
            }
            (_, option, Some(value)) => value_files(RSYNC_FILES, "rsync", option, value, site, out),
            _ => {}
        }
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
        "config" => git_config(rest, &repository, out),
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
                long_values: &[
                    "exclude",
                    "exclude-from",
                    "exclude-per-directory",
                    "with-tree",
                ],
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
    // `-O[PAGER]` and `--open-files-in-pager[=PAGER]`, which git takes
    // abbreviated down to `--op`.
    let pager = parsed.options.iter().find(|(option, _)| {
        option == "-O" || (option.len() >= 4 && is_option(option, "", "--open-files-in-pager"))
    });
    if let (Some((option, _)), "grep") = (pager, name) {
        out.push(Effect::Opaque {
            reason: format!("`git grep {option}` runs a pager command"),
        });
    }
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
    for (option, value) in &parsed.options {
        match (option.as_str(), value) {
            ("--separate-git-dir", Some(value)) => path_effect(value, repository, writes, out),
            ("--reference", Some(value)) => path_effect(value, repository, reads, out),
            _ => {}
        }
    }
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

fn git_config(rest: &[Word], repository: &Site, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "f",
        long_values: &["file", "type", "default"],
    };
    let parsed = parse_options(rest, &spec, false);
    config_files(&parsed, repository, out);
    // `--show-origin` and `--show-scope` only add to a query's output; with
    // a name and a value, `git config --show-scope name value` still writes.
    let queries = ["--get", "--get-all", "--get-regexp", "--list", "-l"];
    let is_query = parsed
        .options
        .iter()
        .any(|(option, _)| queries.contains(&option.as_str()));
    // git takes these abbreviated too (`--ed` for `--edit`), and the
    // subcommand form `git config edit` opens an editor.
    let changes = parsed.options.iter().any(|(option, _)| {
        option == "-e"
            || [
                "--unset",
                "--unset-all",
                "--add",
                "--replace-all",
                "--edit",
                "--rename-section",
                "--remove-section",
            ]
            .iter()
            .any(|long| is_option(option, "", long))
    }) || parsed
        .operands
        .first()
        .is_some_and(|word| word.text == "edit");
    if (is_query || parsed.operands.len() <= 1) && !changes {
        out.push(reads(repository.cwd.clone()));
        return;
    }
    out.push(Effect::Opaque {
        reason: "`git config` changes configuration, which can make git run commands".into(),
    });
}

/// Adds reads of the files `git config` reads beyond the repository's own:
/// `--file FILE`, `--global` (`~/.gitconfig`) and `--system`.
fn config_files(parsed: &ParsedArgs, repository: &Site, out: &mut Vec<Effect>) {
    for (option, value) in &parsed.options {
        match (option.as_str(), value) {
            ("-f" | "--file", Some(value)) => path_effect(value, repository, reads, out),
            ("--global", _) => path_effect(&Word::literal("~/.gitconfig"), repository, reads, out),
            ("--system", _) => out.push(reads("/etc/gitconfig".into())),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_parts_name_their_files() {
        assert_eq!(form_files("f=</etc/a"), ["/etc/a"]);
        assert_eq!(form_files("f=@\"x;y\";type=text/plain"), ["x;y"]);
        let split = form_files("f=@a,b;type=t");
        for file in ["a,b;type=t", "a,b", "a", "b"] {
            assert!(
                split.iter().any(|listed| listed == file),
                "{file} in {split:?}"
            );
        }
        assert_eq!(form_files("f=x;headers=@/etc/h"), ["/etc/h"]);
        assert!(form_files("f=plain text").is_empty());
    }

    fn effects_of(command: &str) -> Vec<Effect> {
        let context = crate::shell::ShellContext {
            cwd: "/w/job".into(),
            home: None,
            worktree: "/w/job".into(),
        };
        let analysis = crate::shell::analyse(command, &context);
        analysis
            .sub_commands
            .into_iter()
            .flat_map(|sub| sub.effects)
            .collect()
    }

    fn reads_path(effects: &[Effect], path: &str) -> bool {
        effects.contains(&Effect::ReadsFile { path: path.into() })
    }

    fn is_opaque(effects: &[Effect]) -> bool {
        effects
            .iter()
            .any(|effect| matches!(effect, Effect::Opaque { .. }))
    }

    #[test]
    fn gh_uploads_read_their_files() {
        let gist = effects_of("gh gist create /etc/a");
        assert!(reads_path(&gist, "/etc/a"), "{gist:?}");
        let field = effects_of("gh api repos/o/r/issues -F body=@/etc/b");
        assert!(reads_path(&field, "/etc/b"), "{field:?}");
        let body = effects_of("gh pr create --body-file=/etc/c");
        assert!(reads_path(&body, "/etc/c"), "{body:?}");
    }

    #[test]
    fn gh_aliases_and_setup_are_opaque() {
        assert!(is_opaque(&effects_of("gh co 12")));
        assert!(is_opaque(&effects_of("gh config set pager cat")));
        assert!(is_opaque(&effects_of("gh extension install o/x")));
        assert!(!is_opaque(&effects_of("gh pr view 12")));
        assert!(!is_opaque(&effects_of("gh auth status")));
    }

    #[test]
    fn named_at_file_needs_at_first() {
        assert_eq!(named_at_file("n@/etc/a").as_deref(), Some("/etc/a"));
        assert_eq!(named_at_file("@/etc/a").as_deref(), Some("/etc/a"));
        assert_eq!(named_at_file("n=a@b"), None);
    }
}
