//! Getopt-style splitting of a command's arguments into options and operands.

use super::words::Word;

/// Which options of one program take a value.
pub(crate) struct OptionSpec {
    /// Short option letters that take a value (`-o FILE`, `-oFILE`).
    pub short_values: &'static str,
    /// Long option names, without `--`, that take a value (`--output FILE`).
    pub long_values: &'static [&'static str],
}

/// Arguments split into options and operands.
#[derive(Debug, Default)]
pub(crate) struct ParsedArgs {
    /// Each option spelled as one flag (`-r`, `--force`) with its value.
    pub options: Vec<(String, Option<Word>)>,
    pub operands: Vec<Word>,
    /// Index of the first argument not consumed as an option when parsing
    /// stopped at the first operand; the argument count otherwise.
    pub end: usize,
}

/// Splits `args`. Clustered short options (`-rf`) become one entry per
/// letter, and `--` ends the options. With `stop_at_operand` parsing stops at
/// the first operand, as for wrappers whose operand is the wrapped command;
/// otherwise options and operands may be interleaved, as GNU tools allow.
pub(crate) fn parse_options(args: &[Word], spec: &OptionSpec, stop_at_operand: bool) -> ParsedArgs {
    let mut parsed = ParsedArgs::default();
    let mut index = 0;
    while let Some(word) = args.get(index) {
        index += 1;
        if word.text == "--" {
            if stop_at_operand {
                parsed.end = index;
                return parsed;
            }
            parsed
                .operands
                .extend(args.get(index..).unwrap_or_default().iter().cloned());
            parsed.end = args.len();
            return parsed;
        }
        if !word.is_option() {
            if stop_at_operand {
                parsed.end = index - 1;
                return parsed;
            }
            parsed.operands.push(word.clone());
            continue;
        }
        let next = args.get(index);
        let consumed = if let Some(long) = word.text.strip_prefix("--") {
            long_option(long, word, next, spec, &mut parsed)
        } else {
            short_options(word, next, spec, &mut parsed)
        };
        if consumed {
            index += 1;
        }
    }
    parsed.end = args.len();
    parsed
}

/// Records `--name`, `--name=value` or `--name value`; true when the value
/// came from the next argument.
fn long_option(
    long: &str,
    word: &Word,
    next: Option<&Word>,
    spec: &OptionSpec,
    parsed: &mut ParsedArgs,
) -> bool {
    if let Some((name, value)) = long.split_once('=') {
        let value = Word {
            text: value.to_string(),
            ..word.clone()
        };
        let name = expand_long(name, spec.long_values);
        parsed.options.push((format!("--{name}"), Some(value)));
        return false;
    }
    let name = expand_long(long, spec.long_values);
    let takes_value = spec.long_values.contains(&name);
    let value = if takes_value { next.cloned() } else { None };
    parsed.options.push((format!("--{name}"), value));
    takes_value && next.is_some()
}

/// Returns the long option `name` abbreviates among `known`, since
/// getopt_long accepts any unambiguous prefix (`--target` for
/// `--target-directory`). A name that is exact, ambiguous or unknown is
/// returned as given.
// NOTE: `known` lists only the options that take a value. A prefix that the
// real program finds ambiguous, or a program that takes no abbreviations,
// makes it exit with an error, so the expansion adds effects but hides none.
// The exception is a flag whose full name is a prefix of a listed option
// (rsync's `--partial` beside `--partial-dir`): it would take the next word
// as its value, so such options must stay out of `known`.
fn expand_long<'a>(name: &'a str, known: &[&'a str]) -> &'a str {
    if name.is_empty() || known.contains(&name) {
        return name;
    }
    let mut matches = known.iter().filter(|option| option.starts_with(name));
    match (matches.next(), matches.next()) {
        (Some(option), None) => option,
        _ => name,
    }
}

/// Tells whether `option`, as `parse_options` recorded it, is the short
/// option `short` or an abbreviation of the long option `long` (both with
/// their dashes). Flags are not expanded while parsing, because their names
/// are not listed in an `OptionSpec`.
pub(crate) fn is_option(option: &str, short: &str, long: &str) -> bool {
    if option == short {
        return true;
    }
    match (option.strip_prefix("--"), long.strip_prefix("--")) {
        (Some(given), Some(full)) => !given.is_empty() && full.starts_with(given),
        _ => false,
    }
}

/// Records each letter of `-abc`; a letter that takes a value takes the rest
/// of the cluster or, when that is empty, the next argument.
fn short_options(
    word: &Word,
    next: Option<&Word>,
    spec: &OptionSpec,
    parsed: &mut ParsedArgs,
) -> bool {
    let letters = word.text.get(1..).unwrap_or_default();
    for (offset, letter) in letters.char_indices() {
        if !spec.short_values.contains(letter) {
            parsed.options.push((format!("-{letter}"), None));
            continue;
        }
        let rest = letters
            .get(offset + letter.len_utf8()..)
            .unwrap_or_default();
        if !rest.is_empty() {
            let value = Word {
                text: rest.to_string(),
                ..word.clone()
            };
            parsed.options.push((format!("-{letter}"), Some(value)));
            return false;
        }
        parsed.options.push((format!("-{letter}"), next.cloned()));
        return next.is_some();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Word> {
        text.split_whitespace().map(Word::literal).collect()
    }

    fn names(parsed: &ParsedArgs) -> Vec<String> {
        parsed
            .options
            .iter()
            .map(|(name, _)| name.clone())
            .collect()
    }

    #[test]
    fn clusters_split_into_letters() {
        let spec = OptionSpec {
            short_values: "o",
            long_values: &["output"],
        };
        let parsed = parse_options(&words("-rf x -ofile --output y -- -z"), &spec, false);
        assert_eq!(names(&parsed), ["-r", "-f", "-o", "--output"]);
        let operands: Vec<String> = parsed
            .operands
            .iter()
            .map(|word| word.text.clone())
            .collect();
        assert_eq!(operands, ["x", "-z"]);
        let value = parsed
            .options
            .get(2)
            .and_then(|(_, value)| value.clone())
            .map(|word| word.text);
        assert_eq!(value.as_deref(), Some("file"));
    }

    #[test]
    fn long_value_options_expand_from_unique_prefixes() {
        let spec = OptionSpec {
            short_values: "",
            long_values: &[
                "target-directory",
                "suffix",
                "output-document",
                "output-file",
            ],
        };
        let parsed = parse_options(
            &words("--t=/x --target y --output-doc z --output w a"),
            &spec,
            false,
        );
        assert_eq!(
            names(&parsed),
            [
                "--target-directory",
                "--target-directory",
                "--output-document",
                "--output"
            ]
        );
        let operands: Vec<String> = parsed
            .operands
            .iter()
            .map(|word| word.text.clone())
            .collect();
        assert_eq!(operands, ["w", "a"]);
    }

    #[test]
    fn flags_match_their_abbreviations() {
        assert!(is_option("--sym", "-s", "--symbolic"));
        assert!(is_option("-s", "-s", "--symbolic"));
        assert!(!is_option("--", "-s", "--symbolic"));
        assert!(!is_option("--symbolically", "-s", "--symbolic"));
        assert!(!is_option("-y", "-s", "--symbolic"));
    }

    #[test]
    fn wrapper_parsing_stops_at_command() {
        let spec = OptionSpec {
            short_values: "n",
            long_values: &[],
        };
        let parsed = parse_options(&words("-n 10 rm -rf x"), &spec, true);
        assert_eq!(parsed.end, 2);
    }
}
