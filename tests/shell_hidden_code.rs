//! Commands that run code the line does not show: arithmetic that
//! evaluates a variable's value, names that bash evaluates as subscripts,
//! and environment variables that programs run as commands. Each of these
//! ran its hidden command in bash 5.2 and must be opaque, so it is never
//! auto-approved; the plain forms beside them must stay readable.

use mc_governance::shell::{analyse, ShellContext};
use std::path::PathBuf;

fn context() -> ShellContext {
    ShellContext { cwd: PathBuf::from("/w/job"), home: Some(PathBuf::from("/home/u")), worktree: PathBuf::from("/w/job") }
}

fn is_opaque(line: &str) -> bool {
    let analysis = analyse(line, &context());
    !analysis.opaque.is_empty()
        || analysis.sub_commands.iter().flat_map(|command| &command.effects).any(|effect| matches!(effect, mc_governance::shell::Effect::Opaque { .. }))
}

#[test]
fn arithmetic_on_variables_is_opaque() {
    let lines = [
        r"y=a[\$\(touch\ /tmp/pwn\)]; echo ${PWD:y}",
        r#"p=\$; y="a[${p}(touch /tmp/pwn)]"; echo ${PWD:y}"#,
        r"y=a[\$\(touch\ /tmp/pwn\)]; z=(1); echo ${z[y]}",
        "read y < a2.txt; echo ${PWD:y}",
        "read y < a2.txt; echo ${PWD:0:y}",
        "echo ${x:-${PWD:y}}",
        "echo ${!y}",
        "echo $((y + 1))",
        "(( y ))",
        "for ((i = 0; i < n; i++)); do :; done",
        "let z=y+1",
        "[[ $y -eq 1 ]] && ls",
        "a[i]=1",
        "declare -i n=y",
        "read 'a[$(touch /tmp/pwn)]' <<< 1",
        "printf -v 'a[y]' %s 1",
        // Two subshells in bash, which brush-parser reads as arithmetic.
        "ls; ( ( rm -rf /etc ) ); ls",
        "ls && ( (touch /tmp/pwn) )",
    ];
    for line in lines {
        assert!(is_opaque(line), "{line}");
    }
}

#[test]
fn variables_that_run_commands_are_opaque() {
    let lines = [
        "PS4='$(touch /tmp/pwn)'; set -x; :",
        "export PS4='$(touch /tmp/pwn)'; set -x; :",
        r#"LESSOPEN="|touch /tmp/pwn; echo %s" less a.txt"#,
        r"TAR_OPTIONS='--to-command=touch\ /tmp/pwn' tar xf t.tar",
        "npm_config_registry=http://127.0.0.1:4802/ npm view x",
        "JAVA_TOOL_OPTIONS=-javaagent:/tmp/a.jar java -version",
    ];
    for line in lines {
        assert!(is_opaque(line), "{line}");
    }
}

#[test]
fn plain_arithmetic_and_expansions_stay_readable() {
    let lines = [
        "echo ${PWD:0:3}",
        "echo ${a[0]} ${!a[@]} ${#x}",
        "echo ${x:-default} ${PATH//:/ } ${t%%:*}",
        "[[ $# -gt 0 ]] && ls",
        "[[ -f package.json ]] && ls",
        "let x=1+2",
        "read -r line < a.txt",
        "printf '[%s]\\n' x",
        "declare -r x=1",
    ];
    for line in lines {
        let analysis = analyse(line, &context());
        assert!(!is_opaque(line), "{line}: {:?}", analysis.opaque);
    }
}
