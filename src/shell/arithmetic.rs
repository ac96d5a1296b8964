//! Arithmetic that reads variables. In arithmetic, bash evaluates a
//! variable's value as arithmetic in turn, and an array subscript in that
//! value runs its command substitutions: with `y='a[$(rm -rf ~)]'`, both
//! `echo ${PWD:y}` and `(( y ))` run the `rm`. The value can come from an
//! assignment, `read` or a file, so no analysis of the line can vouch for
//! it. Arithmetic that names a variable is therefore opaque, except for the
//! shell's own counters, which always hold numbers.
//!
//! Arithmetic is read in `$((...))`, `$[...]`, `((...))`, `for ((...))`,
//! `let`, array subscripts, substring offsets (`${name:offset:length}`),
//! the `-eq` family inside `[[ ]]`, and assignments to `declare -i`
//! variables. Indirect expansion (`${!name}`) and builtins that take a
//! variable name (`read 'a[$(cmd)]'`) evaluate a subscript from a value
//! or an argument the same way.

use super::words::Word;

/// Variables the shell sets to numbers; reading them runs nothing.
const NUMERIC_VARIABLES: &[&str] = &[
    "RANDOM", "SRANDOM", "SECONDS", "LINENO", "BASHPID", "PPID", "UID", "EUID", "EPOCHSECONDS", "OPTIND", "SHLVL",
];

/// Builtins whose operands name variables, possibly with a subscript that
/// bash evaluates (`read 'a[$(cmd)]'`).
const TAKES_VARIABLE_NAMES: &[&str] = &[
    "read", "unset", "declare", "typeset", "local", "export", "readonly", "mapfile", "readarray", "getopts",
];

/// Comparisons inside `[[ ]]` that evaluate both operands as arithmetic.
const ARITHMETIC_TESTS: &[&str] = &["-eq", "-ne", "-lt", "-le", "-gt", "-ge"];

/// Returns the first variable that arithmetic text reads, if any. Numbers,
/// including `0x1f` and `2#101`, and special parameters (`$#`, `$?`, `$1`)
/// read none.
pub(crate) fn variable_read(expr: &str) -> Option<&str> {
    let bytes = expr.as_bytes();
    let is_name_byte = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_';
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte.is_ascii_digit() {
            // A number and its base notation: `16#ff`, `0x1F`, `64#@_`.
            index += bytes.get(index..).unwrap_or_default().iter().take_while(|&&b| is_name_byte(b) || b == b'#' || b == b'@').count();
            continue;
        }
        if byte.is_ascii_alphabetic() || byte == b'_' {
            let length = bytes.get(index..).unwrap_or_default().iter().take_while(|&&b| is_name_byte(b)).count();
            let name = expr.get(index..index + length).unwrap_or_default();
            if !NUMERIC_VARIABLES.contains(&name) {
                return Some(name);
            }
            index += length;
            continue;
        }
        index += 1;
    }
    None
}

/// Returns why a parameter expansion's source text (`${...}`, including
/// any nested words brush-parser leaves unparsed) evaluates arithmetic
/// that reads a variable, or reads a name from a value.
pub(crate) fn hidden_in_expansion(source: &str) -> Option<String> {
    if let Some(name) = indirect_name(source) {
        return Some(format!("`{source}` takes a variable name from the value of `{name}`, which can run commands"));
    }
    let parts = subscripts(source).chain(substring_bounds(source)).chain(nested_arithmetic(source));
    for part in parts {
        if let Some(name) = variable_read(part) {
            return Some(reads_variable(source, name));
        }
    }
    None
}

/// Returns why arithmetic text such as the body of `((...))` or
/// `$((...))` is opaque, if it is.
pub(crate) fn hidden_in_arithmetic(expr: &str) -> Option<String> {
    let name = variable_read(expr)?;
    Some(reads_variable(expr, name))
}

/// Returns why the text of a `[[ ]]` test evaluates a variable as
/// arithmetic, if it does. Any name next to an `-eq` comparison counts,
/// so a test that also checks a file is held too.
pub(crate) fn hidden_in_test(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if !words.iter().any(|word| ARITHMETIC_TESTS.contains(word)) {
        return None;
    }
    let operands = words.iter().filter(|word| !ARITHMETIC_TESTS.contains(word) && !matches!(**word, "&&" | "||" | "!" | "(" | ")"));
    for operand in operands {
        if let Some(name) = variable_read(operand) {
            return Some(format!("`[[ {text} ]]` compares `{name}` as arithmetic, which evaluates its value and can run commands"));
        }
    }
    None
}

/// Returns why a builtin evaluates arithmetic or a subscript taken from its
/// operands: `let`, `declare -i` and the other declarations with an
/// integer flag, and a subscripted name given to a builtin that takes
/// variable names (`read`, `printf -v`, `unset`, ...).
pub(crate) fn hidden_in_builtin(program: &str, args: &[Word]) -> Option<String> {
    if program == "let" {
        let name = args.iter().find_map(|word| variable_read(assigned_value(&word.text)))?;
        return Some(format!("`let` evaluates `{name}` as arithmetic, which can run commands"));
    }
    let declares = matches!(program, "declare" | "typeset" | "local" | "export" | "readonly");
    if declares && args.iter().any(|word| is_flag_with(&word.text, 'i')) {
        return Some(format!("`{program} -i` evaluates the values it assigns as arithmetic, which can run commands"));
    }
    let names: Vec<&Word> = match program {
        "printf" => args.windows(2).filter(|pair| pair[0].text == "-v").map(|pair| &pair[1]).collect(),
        _ if TAKES_VARIABLE_NAMES.contains(&program) => args.iter().collect(),
        _ => Vec::new(),
    };
    let subscripted = names.into_iter().find(|word| !word.text.starts_with('-') && word.text.contains('['))?;
    Some(format!("`{program}` evaluates the subscript of `{}`, which can run commands", subscripted.text))
}

/// Returns why assigning to `name` evaluates a subscript that reads a
/// variable (`a[i]=1`), if it does.
pub(crate) fn hidden_in_assignment(name: &str) -> Option<String> {
    let (_, subscript) = name.split_once('[')?;
    let subscript = subscript.strip_suffix(']').unwrap_or(subscript);
    let variable = variable_read(subscript)?;
    Some(reads_variable(name, variable))
}

/// Returns the value of a plain `name=value` expression, whose name is set, not
/// read; any other expression whole.
fn assigned_value(expr: &str) -> &str {
    let name_length = expr.bytes().take_while(|byte| byte.is_ascii_alphanumeric() || *byte == b'_').count();
    match expr.as_bytes().get(name_length..name_length + 2) {
        Some([b'=', next]) if *next != b'=' && name_length > 0 => expr.get(name_length + 1..).unwrap_or_default(),
        _ => expr,
    }
}

fn reads_variable(text: &str, name: &str) -> String {
    format!("arithmetic in `{text}` reads `{name}`, whose value bash evaluates and which can run commands")
}

fn is_flag_with(text: &str, flag: char) -> bool {
    text.len() > 1 && (text.starts_with('-') || text.starts_with('+')) && text.chars().skip(1).any(|c| c == flag)
}

/// Returns the variable whose value `${!name}` uses as a name. `${!prefix*}`,
/// `${!prefix@}` and `${!name[@]}` list names or keys instead and read no
/// value.
fn indirect_name(source: &str) -> Option<&str> {
    let rest = source.strip_prefix("${!")?;
    let length = rest.bytes().take_while(|byte| byte.is_ascii_alphanumeric() || *byte == b'_').count();
    let name = rest.get(..length).filter(|name| !name.is_empty())?;
    let after = rest.get(length..).unwrap_or_default();
    let lists = ["*}", "@}", "[@]}", "[*]}"].iter().any(|ending| after.starts_with(ending));
    (!lists).then_some(name)
}

/// Yields the text inside each `[...]` (without nesting), except `@` and `*`.
fn subscripts(source: &str) -> impl Iterator<Item = &str> {
    source.split('[').skip(1).filter_map(|after| after.split_once(']').map(|(inside, _)| inside)).filter(|inside| !matches!(*inside, "@" | "*"))
}

/// Yields the text after each `:` that starts a substring offset rather than a
/// `:-`, `:=`, `:?` or `:+` operator, up to the closing `}`.
fn substring_bounds(source: &str) -> impl Iterator<Item = &str> {
    source.match_indices(':').filter_map(move |(at, _)| {
        let after = source.get(at + 1..)?;
        if after.starts_with(['-', '=', '?', '+']) {
            return None;
        }
        Some(after.split('}').next().unwrap_or(after))
    })
}

/// Yields the text after each nested `$((` or `$[`, to the end of the source.
fn nested_arithmetic(source: &str) -> impl Iterator<Item = &str> {
    let double = source.match_indices("$((").filter_map(move |(at, _)| source.get(at + 3..));
    let old = source.match_indices("$[").filter_map(move |(at, _)| source.get(at + 2..));
    double.chain(old)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_in_arithmetic_are_found() {
        let cases: &[(&str, Option<&str>)] = &[
            ("1+2", None),
            ("0x1F + 16#ff - 2#101", None),
            ("$# > 0 && $? == 1", None),
            ("RANDOM % 6", None),
            ("i + 1", Some("i")),
            ("$y", Some("y")),
            ("a[0] * 2", Some("a")),
            ("rm -rf /etc", Some("rm")),
        ];
        for (expr, expected) in cases {
            assert_eq!(variable_read(expr), *expected, "{expr}");
        }
    }

    #[test]
    fn expansions_that_evaluate_variables_are_found() {
        let held = ["${PWD:y}", "${PWD:0:n}", "${z[y]}", "${!y}", "${x:-${PWD:y}}", "${x:-$((y))}", "${a[i+1]:-0}"];
        for source in held {
            assert!(hidden_in_expansion(source).is_some(), "{source}");
        }
        let plain = ["${PWD}", "${x:-default}", "${x:=1}", "${PWD:0:5}", "${a[0]}", "${a[@]}", "${!a[@]}", "${!pre*}", "${#x}", "${x//:/ }", "${t%%:*}"];
        for source in plain {
            assert_eq!(hidden_in_expansion(source), None, "{source}");
        }
    }

    #[test]
    fn builtins_that_evaluate_names_are_found() {
        let words = |text: &str| -> Vec<Word> { text.split(' ').map(Word::literal).collect() };
        let held = [("let", "x=y+1"), ("declare", "-i x=1"), ("local", "-ri n"), ("read", "-r a[$(id)]"), ("printf", "-v a[x] %s 1"), ("unset", "a[i]")];
        for (program, args) in held {
            assert!(hidden_in_builtin(program, &words(args)).is_some(), "{program} {args}");
        }
        let plain = [("let", "x=1+2"), ("declare", "-r x=1"), ("read", "-r line"), ("printf", "[%s] x"), ("echo", "a[i]")];
        for (program, args) in plain {
            assert_eq!(hidden_in_builtin(program, &words(args)), None, "{program} {args}");
        }
    }

    #[test]
    fn tests_and_assignments_that_evaluate_variables_are_found() {
        assert!(hidden_in_test("$x -eq 1").is_some());
        assert!(hidden_in_test("-f a && n -gt 2").is_some());
        assert_eq!(hidden_in_test("$# -gt 0"), None);
        assert_eq!(hidden_in_test("-f $file"), None);
        assert!(hidden_in_assignment("a[i]").is_some());
        assert_eq!(hidden_in_assignment("a[0]"), None);
        assert_eq!(hidden_in_assignment("x"), None);
    }
}
