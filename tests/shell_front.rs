//! The fast front end of `shell::analyse` must give exactly the analysis
//! brush-parser alone gives. These tests compare `analyse` with
//! `analyse_with_brush_parser` on fixed lines, on the shared policy cases
//! and on generated lines. The generated lines come from the subset the
//! front end reads, then have characters inserted, removed or replaced so
//! that they cross its edges. The `shell_front` fuzz target runs the same
//! comparison for longer.

mod common;

use std::fs;

use common::TempFolder;
use mc_governance::shell::{analyse, analyse_with_brush_parser, ShellContext};
use proptest::prelude::*;

/// A worktree with folders, a file and links in and out, so that path
/// effects go through symlink resolution. The folder goes when this does.
struct Sandbox {
    _folder: TempFolder,
    context: ShellContext,
}

fn sandbox() -> Sandbox {
    let folder = TempFolder::new("mcg-shell-front");
    let worktree = folder.path.join("job");
    for dir in ["src/app", "build", "config"] {
        fs::create_dir_all(worktree.join(dir)).unwrap();
    }
    fs::create_dir_all(folder.path.join("outside")).unwrap();
    fs::write(worktree.join("package.json"), "{}").unwrap();
    let links = [
        ("link-out", "../outside"),
        ("link-in", "src"),
        ("loop", "loop"),
    ];
    for (link, target) in links {
        std::os::unix::fs::symlink(target, worktree.join(link)).unwrap();
    }
    let context = ShellContext {
        cwd: worktree.clone(),
        home: Some(folder.path.join("home")),
        worktree,
    };
    Sandbox { _folder: folder, context }
}

fn assert_same(context: &ShellContext, line: &str) {
    let fast = analyse(line, context);
    let reference = analyse_with_brush_parser(line, context);
    assert_eq!(fast, reference, "the analyses of {line:?} differ");
}

#[test]
fn fixed_lines_analyse_alike() {
    let sandbox = sandbox();
    let lines = [
        "ls -la src/",
        "mkdir -p build && echo hi > build/x.txt; ls | wc -l && git status --short | head -n 20",
        "cd src/app && npm run lint -- --fix && npm test -- --run 2>&1 | tail -n 40; \
         git diff --stat > ../../build/diff.txt && grep -rn \"TODO\" . | wc -l; cat package.json | head -5",
        "cat link-out/x > link-in/y; cp link-out/a ../b && rm -rf loop/z",
        "ln -s /etc conf && cat conf/passwd > out",
        "cd .. && ls job/link-out/..",
        "bash -c 'rm -rf x' && sh -c \"cd /tmp && ls\"",
        "echo 'a b' \"c d\" e''f > /dev/null 2>&1",
        "> out; >> log < in.txt",
        "git push origin main || git push --force",
        "curl -o out.html https://example.com/x | tee copy.html",
        "npm install left-pad && pip install requests",
        "sudo rm -rf /",
        "echo x >&2; echo y 1>&2 3>f; echo 2 >x 3 <y",
        "ls; ; ls",
        "ls &&",
        "cd",
        "cd /tmp; cd -; ls",
        "find . -name x -delete",
        "tar -C build -xf a.tar",
    ];
    for line in lines {
        assert_same(&sandbox.context, line);
    }
}

#[test]
fn policy_case_commands_analyse_alike() {
    let sandbox = sandbox();
    let text = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/policy-cases.json"
    ))
    .unwrap();
    let cases: serde_json::Value = serde_json::from_str(&text).unwrap();
    let commands: Vec<&str> = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|case| case["command"].as_str())
        .collect();
    assert!(commands.len() > 10, "the policy cases hold shell commands");
    for command in commands {
        assert_same(&sandbox.context, command);
    }
}

/// Returns words of the subset: programs in the allowlists, options, paths
/// through the links above, quoted text and descriptors.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "ls", "cat", "rm", "-rf", "echo", "git", "push", "npm", "install", "cd", "mkdir", "-p", "cp", "mv",
            "ln", "-s", "grep", "-rn", "curl", "-o", "tee", "-a", "sed", "-i", "bash", "-c", "sh", "sudo", "env",
            "xargs", "find", "-delete", "tar", "-C", "head", "-n", "20", "2", "1", "--", "--fix", ".", "..",
            "/", "/tmp", "/etc/passwd", "/dev/null", "link-out", "link-in/x", "loop/y", "src/app", "../..",
            "build/x.txt", "a=b", "--out=dist", "x,y:z@w%v+u", "python3", "make", "chmod", "755", "done",
        ])
        .prop_map(str::to_string),
        1 => "[0-9]{1,2}",
        2 => "[a-z0-9./_-]{1,8}",
        1 => "'[ -&(-~]{0,10}'",
        1 => "\"[ !#%-\\[\\]-_a-~]{0,10}\"",
        1 => ("[a-z]{1,4}", "'[ a-z;|&$]{0,6}'", "\"[ a-z;|&]{0,6}\"").prop_map(|(a, b, c)| format!("{a}{b}{c}")),
    ]
}

fn redirection() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "1", "2", "3"]),
        prop::sample::select(vec![">", ">>", "<", ">&"]),
        prop::sample::select(vec!["", " "]),
        prop_oneof![
            word(),
            prop::sample::select(vec!["1".to_string(), "2".to_string()])
        ],
    )
        .prop_map(|(fd, operator, gap, target)| format!("{fd}{operator}{gap}{target}"))
}

fn simple_command() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(redirection(), 0..2),
        word(),
        prop::collection::vec(prop_oneof![4 => word(), 1 => redirection()], 0..5),
    )
        .prop_map(|(prefix, name, rest)| {
            let mut parts = prefix;
            parts.push(name);
            parts.extend(rest);
            parts.join(" ")
        })
}

/// Generates a list of pipelines joined by `&&`, `||` and `;`, with
/// spacing varied.
fn line() -> impl Strategy<Value = String> {
    (
        simple_command(),
        prop::collection::vec(
            (
                prop::sample::select(vec![" && ", "&&", " || ", "; ", ";", " | ", "|"]),
                simple_command(),
            ),
            0..4,
        ),
        prop::sample::select(vec!["", ";", " ; ", " "]),
    )
        .prop_map(|(first, rest, end)| {
            let mut text = first;
            for (operator, command) in rest {
                text.push_str(operator);
                text.push_str(&command);
            }
            text.push_str(end);
            text
        })
}

/// One edit of a line: insert, replace or remove a character at a position
/// given as a fraction of the length.
#[derive(Debug, Clone)]
enum Edit {
    Insert(f64, char),
    Replace(f64, char),
    Remove(f64),
}

fn edit() -> impl Strategy<Value = Edit> {
    let nasty = prop::sample::select(vec![
        '$', '`', '\\', '(', ')', '{', '}', '#', '*', '?', '[', ']', '~', '!', '&', '|', ';', '<',
        '>', '\'', '"', '\n', '\t', '=', ' ', '0', '2', 'a', 'é', '\r', '\0', '-', '/', '.', '@',
        '+',
    ]);
    prop_oneof![
        (0.0..1.0f64, nasty.clone()).prop_map(|(at, c)| Edit::Insert(at, c)),
        (0.0..1.0f64, nasty).prop_map(|(at, c)| Edit::Replace(at, c)),
        (0.0..1.0f64).prop_map(Edit::Remove),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let at = |fraction: f64, len: usize| ((fraction * len as f64) as usize).min(len);
    match *edit {
        Edit::Insert(fraction, c) => chars.insert(at(fraction, chars.len()), c),
        Edit::Replace(fraction, c) if !chars.is_empty() => {
            let index = at(fraction, chars.len() - 1);
            chars[index] = c;
        }
        Edit::Remove(fraction) if !chars.is_empty() => {
            chars.remove(at(fraction, chars.len() - 1));
        }
        _ => {}
    }
    chars.into_iter().collect()
}

fn generated_cases() -> ProptestConfig {
    ProptestConfig { cases: 512, ..ProptestConfig::default() }
}

#[test]
fn subset_lines_analyse_alike() {
    let sandbox = sandbox();
    proptest!(generated_cases(), |(text in line())| {
        let fast = analyse(&text, &sandbox.context);
        let reference = analyse_with_brush_parser(&text, &sandbox.context);
        prop_assert_eq!(fast, reference, "line {:?}", text);
    });
}

#[test]
fn perturbed_lines_analyse_alike() {
    let sandbox = sandbox();
    proptest!(generated_cases(), |(text in line(), edits in prop::collection::vec(edit(), 1..4))| {
        let mut text = text;
        for edit in &edits {
            text = apply(&text, edit);
        }
        let fast = analyse(&text, &sandbox.context);
        let reference = analyse_with_brush_parser(&text, &sandbox.context);
        prop_assert_eq!(fast, reference, "line {:?}", text);
    });
}

#[test]
fn nested_shell_strings_analyse_alike() {
    let sandbox = sandbox();
    proptest!(generated_cases(), |(inner in line(), quote in prop::sample::select(vec!['\'', '"']))| {
        let inner = inner.replace(quote, "");
        let text = format!("bash -c {quote}{inner}{quote} && sh -c {quote}{inner}{quote}");
        let fast = analyse(&text, &sandbox.context);
        let reference = analyse_with_brush_parser(&text, &sandbox.context);
        prop_assert_eq!(fast, reference, "line {:?}", text);
    });
}
