//! Archivers and compressors: which files they read and which they create.

use super::options::{is_option, parse_options, OptionSpec};
use super::programs::{path_effect, paths_of, reads, writes, Site};
use super::words::Word;
use super::Effect;

/// Long options of GNU tar that run a program.
const TAR_RUNS_PROGRAM: &[&str] = &[
    "--to-command",
    "--use-compress-program",
    "--checkpoint-action",
    "--info-script",
    "--new-volume-script",
    "--rsh-command",
    "--rmt-command",
];

/// Tells whether a tar option, possibly abbreviated as GNU tar allows, runs
/// a program. `--checkpoint` is an option of its own, not an abbreviation of
/// `--checkpoint-action`.
fn runs_program(option: &str) -> bool {
    option == "-I"
        || (option != "--checkpoint"
            && TAR_RUNS_PROGRAM
                .iter()
                .any(|long| is_option(option, "", long)))
}

/// `tar` in create (`c`, `r`, `u`), extract (`x`) or list (`t`) mode. The
/// first argument may be a cluster without a dash (`tar xzf a.tgz`).
pub(crate) fn tar(args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let mut normalized: Vec<Word> = args.to_vec();
    if let Some(first) = normalized.first_mut() {
        if !first.text.starts_with('-') {
            first.text = format!("-{}", first.text);
        }
    }
    let spec = OptionSpec {
        short_values: "fCIbTXKLN",
        long_values: &[
            "file",
            "directory",
            "files-from",
            "exclude-from",
            "blocking-factor",
        ],
    };
    let parsed = parse_options(&normalized, &spec, false);

    let mut mode = None;
    let mut archive: Option<Word> = None;
    let mut directory = Word::literal(".");
    for (option, value) in &parsed.options {
        if runs_program(option) {
            out.push(Effect::Opaque {
                reason: format!("`tar {option}` runs a program"),
            });
        }
        if is_option(option, "-P", "--absolute-names") {
            let reason = format!("`tar {option}` may write outside the target directory");
            out.push(Effect::Opaque { reason });
        }
        match (option.as_str(), value) {
            ("-c" | "--create" | "-r" | "--append" | "-u" | "--update", _) => mode = Some('c'),
            ("-x" | "--extract" | "--get", _) => mode = Some('x'),
            ("-t" | "--list", _) => mode = Some('t'),
            ("-f" | "--file", Some(value)) => archive = Some(value.clone()),
            ("-C" | "--directory", Some(value)) => directory = value.clone(),
            ("-T" | "--files-from" | "-X" | "--exclude-from", Some(value)) => {
                path_effect(value, site, reads, out);
            }
            _ => {}
        }
    }

    let Some(mode) = mode else {
        out.push(Effect::Opaque {
            reason: "`tar` without a known mode".into(),
        });
        return;
    };
    let directory_site = Site {
        cwd: site.locate(&directory.text),
        ..site.clone()
    };
    if !directory.known {
        out.push(Effect::Opaque {
            reason: format!("`tar -C {}` is not static", directory.text),
        });
    }
    match mode {
        'c' => {
            if let Some(archive) = &archive {
                path_effect(archive, site, writes, out);
            }
            paths_of(&parsed.operands, &directory_site, reads, out);
        }
        'x' => {
            if let Some(archive) = &archive {
                path_effect(archive, site, reads, out);
            }
            // Members may hold `../` or absolute names. GNU tar strips the
            // leading `/` and skips `..` members unless `-P` is given, which
            // is reported as opaque above.
            out.push(Effect::WritesFile {
                path: directory_site.cwd.clone(),
            });
        }
        _ => {
            if let Some(archive) = &archive {
                path_effect(archive, site, reads, out);
            }
        }
    }
}

/// `gzip`, `xz` and friends replace each operand with its (de)compressed
/// form, unless `-c` or `--stdout` writes to standard output instead.
pub(crate) fn compress(args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    let spec = OptionSpec {
        short_values: "S",
        long_values: &["suffix"],
    };
    let parsed = parse_options(args, &spec, false);
    let to_stdout = parsed.options.iter().any(|(option, _)| {
        matches!(
            option.as_str(),
            "-c" | "--stdout" | "--to-stdout" | "-t" | "--test" | "-l" | "--list"
        )
    });
    let make = if to_stdout { reads } else { writes };
    paths_of(&parsed.operands, site, make, out);
}

/// `zip ARCHIVE FILES...` writes the archive; `unzip ARCHIVE [-d DIR]`
/// writes into DIR or the working directory.
pub(crate) fn zip(name: &str, args: &[Word], site: &Site, out: &mut Vec<Effect>) {
    if name == "zip" {
        let spec = OptionSpec {
            short_values: "bnPtxi",
            long_values: &[],
        };
        let parsed = parse_options(args, &spec, false);
        if let Some((archive, files)) = parsed.operands.split_first() {
            path_effect(archive, site, writes, out);
            paths_of(files, site, reads, out);
        }
        if parsed
            .options
            .iter()
            .any(|(option, _)| option == "-T" || option == "-TT")
        {
            out.push(Effect::Opaque {
                reason: "`zip -T` can run a test command".into(),
            });
        }
        return;
    }
    let spec = OptionSpec {
        short_values: "dxP",
        long_values: &[],
    };
    let parsed = parse_options(args, &spec, false);
    let listing = parsed
        .options
        .iter()
        .any(|(option, _)| matches!(option.as_str(), "-l" | "-t" | "-v" | "-p" | "-c" | "-Z"));
    let directory = parsed
        .options
        .iter()
        .find(|(option, _)| option == "-d")
        .and_then(|(_, value)| value.clone())
        .unwrap_or_else(|| Word::literal("."));
    if let Some(archive) = parsed.operands.first() {
        path_effect(archive, site, reads, out);
    }
    if !listing {
        path_effect(&directory, site, writes, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_program_options_match_abbreviated() {
        assert!(runs_program("--to-comm"));
        assert!(runs_program("--use-compress-program"));
        assert!(runs_program("-I"));
        assert!(!runs_program("--checkpoint"));
        assert!(!runs_program("--to-stdout"));
    }
}
