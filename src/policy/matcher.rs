//! Rule patterns: how each category's patterns are checked, compiled into
//! glob sets, and matched against an action's target.

use std::collections::HashMap;
use std::path::Path;

use globset::{Candidate, Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::decision::{Action, Category};
use crate::shell::{CommandPattern, PreparedCommand, SubCommand};

/// The rule id reported when a whole glob set fails to build, which no
/// single rule causes.
const SET_ERROR: usize = usize::MAX;

/// The syntax of a category's rule patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatternKind {
    /// File path globs (`file_edit`, `file_read`).
    Path,
    /// Host globs, or URL globs when the pattern contains `://`.
    Network,
    /// Globs over a name (`mcp_tools` tool names, `other` permission names).
    Name,
    /// Shell command patterns (`shell_command`, `install_packages`).
    Command,
}

impl PatternKind {
    pub(crate) fn of(category: Category) -> PatternKind {
        match category {
            Category::FileEdit | Category::FileRead => PatternKind::Path,
            Category::NetworkAccess => PatternKind::Network,
            Category::McpTools | Category::Other => PatternKind::Name,
            Category::ShellCommand | Category::InstallPackages => PatternKind::Command,
        }
    }
}

/// A pattern that cannot be compiled: the message and its help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatternError {
    pub(crate) message: String,
    pub(crate) help: Option<String>,
}

impl PatternError {
    fn new(message: String, help: Option<&str>) -> PatternError {
        PatternError { message, help: help.map(str::to_string) }
    }
}

/// The form of path a path pattern is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathAnchor {
    /// `/...` and `~/...`: the absolute path.
    Absolute,
    /// `**/...` and patterns without `/`: the worktree-relative path of a
    /// file inside the worktree, the absolute path of any other file.
    Anywhere,
    /// Other relative patterns: the worktree-relative path; they never
    /// match files outside the worktree.
    Worktree,
}

/// A glob set whose matches map back to rule ids.
#[derive(Debug, Clone)]
pub(crate) struct IndexedSet {
    set: GlobSet,
    ids: Vec<usize>,
}

struct IndexedSetBuilder {
    builder: GlobSetBuilder,
    ids: Vec<usize>,
}

impl Default for IndexedSetBuilder {
    fn default() -> IndexedSetBuilder {
        IndexedSetBuilder { builder: GlobSetBuilder::new(), ids: Vec::new() }
    }
}

impl IndexedSetBuilder {
    fn add(&mut self, glob: Glob, id: usize) {
        self.builder.add(glob);
        self.ids.push(id);
    }

    fn build(self) -> Result<IndexedSet, PatternError> {
        let set = self
            .builder
            .build()
            .map_err(|error| PatternError::new(format!("cannot build the rule set: {error}"), None))?;
        Ok(IndexedSet { set, ids: self.ids })
    }
}

impl IndexedSet {
    fn collect(&self, candidate: &Candidate<'_>, out: &mut Vec<usize>) {
        if self.set.is_empty() {
            return;
        }
        for index in self.set.matches_candidate(candidate) {
            if let Some(id) = self.ids.get(index) {
                out.push(*id);
            }
        }
    }
}

/// The compiled rules of one category.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    Path { absolute: IndexedSet, anywhere: IndexedSet, worktree: IndexedSet },
    Network { host: IndexedSet, url: IndexedSet },
    Name(IndexedSet),
    Command(CommandIndex),
}

/// Shell command patterns, indexed by program name: a sub-command is tried
/// only against the patterns that name one of its programs, and those whose
/// program is a glob. With 50 patterns this saves most glob matches.
#[derive(Debug, Clone, Default)]
pub(crate) struct CommandIndex {
    /// Each pattern with its rule id.
    patterns: Vec<(CommandPattern, usize)>,
    /// Positions in `patterns` by literal program name.
    by_program: HashMap<String, Vec<usize>>,
    /// Positions of the patterns whose program is a glob.
    by_glob: Vec<usize>,
}

impl CommandIndex {
    fn new(patterns: Vec<(CommandPattern, usize)>) -> CommandIndex {
        let mut index = CommandIndex::default();
        for (position, (pattern, _)) in patterns.iter().enumerate() {
            match pattern.literal_program() {
                Some(program) => index.by_program.entry(program.to_string()).or_default().push(position),
                None => index.by_glob.push(position),
            }
        }
        index.patterns = patterns;
        index
    }

    /// Appends the ids of the rules whose pattern matches `command`.
    fn collect(&self, command: &SubCommand, out: &mut Vec<usize>) {
        let mut positions = self.by_glob.clone();
        for program in CommandPattern::programs_of(command) {
            positions.extend(self.by_program.get(program).into_iter().flatten());
        }
        positions.sort_unstable();
        positions.dedup();
        let prepared = PreparedCommand::new(command);
        for position in positions {
            if let Some((pattern, id)) = self.patterns.get(position) {
                if pattern.matches_prepared(&prepared) {
                    out.push(*id);
                }
            }
        }
    }
}

impl Matcher {
    /// Compiles `(pattern, rule id)` pairs. `home` expands `~/` in path
    /// patterns. Returns every pattern that fails, with its rule id.
    pub(crate) fn build(
        kind: PatternKind,
        patterns: &[(&str, usize)],
        home: Option<&Path>,
    ) -> Result<Matcher, Vec<(usize, PatternError)>> {
        let mut errors = Vec::new();
        let matcher = match kind {
            PatternKind::Path => build_path(patterns, home, &mut errors),
            PatternKind::Network => build_network(patterns, &mut errors),
            PatternKind::Name => build_name(patterns, &mut errors),
            PatternKind::Command => Some(build_command(patterns, &mut errors)),
        };
        match matcher {
            Some(matcher) if errors.is_empty() => Ok(matcher),
            _ => Err(errors),
        }
    }

    /// Returns the ids of the rules that match `action`, possibly repeated.
    pub(crate) fn matching(&self, action: &Action, worktree: &Path) -> Vec<usize> {
        let mut out = Vec::new();
        match self {
            Matcher::Path { absolute, anywhere, worktree: anchored } => {
                let path = Path::new(&action.target);
                let absolute_candidate = Candidate::new(path);
                absolute.collect(&absolute_candidate, &mut out);
                match path.strip_prefix(worktree) {
                    Ok(relative) => {
                        let relative_candidate = Candidate::new(relative);
                        anywhere.collect(&relative_candidate, &mut out);
                        anchored.collect(&relative_candidate, &mut out);
                    }
                    Err(_) => anywhere.collect(&absolute_candidate, &mut out),
                }
            }
            Matcher::Network { host, url } => {
                host.collect(&Candidate::new(host_of(&action.target)), &mut out);
                if action.target.contains("://") {
                    url.collect(&Candidate::new(&action.target), &mut out);
                }
            }
            Matcher::Name(names) => names.collect(&Candidate::new(&action.target), &mut out),
            Matcher::Command(index) => {
                // NOTE: without an analysed sub-command, command rules cannot
                // match and the scope default decides.
                if let Some(command) = &action.command {
                    index.collect(command, &mut out);
                }
            }
        }
        out
    }
}

/// Checks one pattern of a category without keeping the result, for
/// validation before the home directory is known.
pub(crate) fn check_pattern(kind: PatternKind, pattern: &str) -> Result<(), PatternError> {
    if pattern.trim().is_empty() {
        return Err(PatternError::new("empty pattern".to_string(), Some("write a glob such as \"**/.env\"")));
    }
    match kind {
        PatternKind::Path => path_globs(pattern, Some(Path::new("/home"))).map(drop),
        PatternKind::Network => network_glob(pattern).map(drop),
        PatternKind::Name => name_glob(pattern).map(drop),
        PatternKind::Command => command_pattern(pattern).map(drop),
    }
}

fn build_path(patterns: &[(&str, usize)], home: Option<&Path>, errors: &mut Vec<(usize, PatternError)>) -> Option<Matcher> {
    let mut absolute = IndexedSetBuilder::default();
    let mut anywhere = IndexedSetBuilder::default();
    let mut worktree = IndexedSetBuilder::default();
    for (pattern, id) in patterns {
        match path_globs(pattern, home) {
            Ok((anchor, globs)) => {
                let target = match anchor {
                    PathAnchor::Absolute => &mut absolute,
                    PathAnchor::Anywhere => &mut anywhere,
                    PathAnchor::Worktree => &mut worktree,
                };
                globs.into_iter().for_each(|glob| target.add(glob, *id));
            }
            Err(error) => errors.push((*id, error)),
        }
    }
    let absolute = absolute.build().map_err(|error| errors.push((SET_ERROR, error))).ok()?;
    let anywhere = anywhere.build().map_err(|error| errors.push((SET_ERROR, error))).ok()?;
    let worktree = worktree.build().map_err(|error| errors.push((SET_ERROR, error))).ok()?;
    Some(Matcher::Path { absolute, anywhere, worktree })
}

fn build_network(patterns: &[(&str, usize)], errors: &mut Vec<(usize, PatternError)>) -> Option<Matcher> {
    let mut host = IndexedSetBuilder::default();
    let mut url = IndexedSetBuilder::default();
    for (pattern, id) in patterns {
        match network_glob(pattern) {
            Ok((true, glob)) => url.add(glob, *id),
            Ok((false, glob)) => host.add(glob, *id),
            Err(error) => errors.push((*id, error)),
        }
    }
    let host = host.build().map_err(|error| errors.push((SET_ERROR, error))).ok()?;
    let url = url.build().map_err(|error| errors.push((SET_ERROR, error))).ok()?;
    Some(Matcher::Network { host, url })
}

fn build_name(patterns: &[(&str, usize)], errors: &mut Vec<(usize, PatternError)>) -> Option<Matcher> {
    let mut names = IndexedSetBuilder::default();
    for (pattern, id) in patterns {
        match name_glob(pattern) {
            Ok(glob) => names.add(glob, *id),
            Err(error) => errors.push((*id, error)),
        }
    }
    names.build().map_err(|error| errors.push((SET_ERROR, error))).ok().map(Matcher::Name)
}

fn build_command(patterns: &[(&str, usize)], errors: &mut Vec<(usize, PatternError)>) -> Matcher {
    let mut compiled = Vec::new();
    for (pattern, id) in patterns {
        match command_pattern(pattern) {
            Ok(command) => compiled.push((command, *id)),
            Err(error) => errors.push((*id, error)),
        }
    }
    Matcher::Command(CommandIndex::new(compiled))
}

/// Compiles a path pattern into the globs that implement it: the pattern
/// itself, and `pattern/**` so that a rule for a directory covers its
/// contents.
fn path_globs(pattern: &str, home: Option<&Path>) -> Result<(PathAnchor, Vec<Glob>), PatternError> {
    let (anchor, text) = anchor_path(pattern, home)?;
    let texts = if text.ends_with("/**") {
        vec![text]
    } else if text.ends_with('/') {
        vec![format!("{text}**")]
    } else {
        vec![format!("{text}/**"), text]
    };
    let globs = texts
        .iter()
        .map(|text| glob(text, true, false).map_err(|error| glob_error(pattern, &error)))
        .collect::<Result<Vec<Glob>, PatternError>>()?;
    Ok((anchor, globs))
}

/// Decides what a path pattern is matched against and returns the glob
/// text to compile: `~/` expanded, bare names prefixed with `**/`, a leading
/// `./` removed.
fn anchor_path(pattern: &str, home: Option<&Path>) -> Result<(PathAnchor, String), PatternError> {
    if let Some(rest) = pattern.strip_prefix('~') {
        if !(rest.is_empty() || rest.starts_with('/')) {
            return Err(PatternError::new(
                format!("invalid path pattern \"{pattern}\": only \"~/\" is expanded"),
                Some("write the absolute path of the other user's home directory"),
            ));
        }
        let home = home.ok_or_else(|| {
            PatternError::new(
                format!("cannot expand \"~\" in \"{pattern}\": the home directory is unknown"),
                Some("write the absolute path, or set HOME"),
            )
        })?;
        let home = globset::escape(&home.to_string_lossy());
        return Ok((PathAnchor::Absolute, format!("{}{rest}", home.trim_end_matches('/'))));
    }
    if pattern.starts_with('/') {
        return Ok((PathAnchor::Absolute, pattern.to_string()));
    }
    let relative = pattern.strip_prefix("./").unwrap_or(pattern);
    if relative.starts_with("**/") {
        return Ok((PathAnchor::Anywhere, relative.to_string()));
    }
    if !relative.trim_end_matches('/').contains('/') {
        return Ok((PathAnchor::Anywhere, format!("**/{relative}")));
    }
    Ok((PathAnchor::Worktree, relative.to_string()))
}

/// Compiles a network pattern. The flag is true for a URL pattern.
fn network_glob(pattern: &str) -> Result<(bool, Glob), PatternError> {
    if pattern.contains("://") {
        let compiled = glob(pattern, true, true).map_err(|error| glob_error(pattern, &error))?;
        return Ok((true, compiled));
    }
    if pattern.contains('/') {
        return Err(PatternError::new(
            format!("invalid host pattern \"{pattern}\": a host has no \"/\""),
            Some("to match paths, write a whole URL pattern such as \"https://github.com/org/**\""),
        ));
    }
    if let Some(error) = port_error(pattern) {
        return Err(error);
    }
    let compiled = glob(pattern, false, true).map_err(|error| glob_error(pattern, &error))?;
    Ok((false, compiled))
}

/// Returns an error for a host pattern with a port, or an IPv6 address
/// without brackets. The host taken from a target has no port and keeps
/// its brackets, so such a rule could never match.
fn port_error(pattern: &str) -> Option<PatternError> {
    let bracketed = pattern.strip_prefix("\\[").or_else(|| pattern.strip_prefix('['));
    let after_host = match bracketed {
        Some(rest) => rest.find(']').and_then(|end| rest.get(end..)).unwrap_or_default(),
        None => pattern,
    };
    match after_host.matches(':').count() {
        0 => None,
        1 => Some(PatternError::new(
            format!("invalid host pattern \"{pattern}\": host rules match the host without its port"),
            Some(&format!(
                "write \"{}\" for every port, or a URL pattern such as \"https://{pattern}/**\" for this one",
                pattern.rsplit_once(':').map_or(pattern, |(host, _)| host)
            )),
        )),
        _ => Some(PatternError::new(
            format!("invalid host pattern \"{pattern}\": an IPv6 address is compared in brackets"),
            Some(&format!("write \"\\\\[{pattern}\\\\]\" (the brackets escaped, because [ ] is a glob class)")),
        )),
    }
}

fn name_glob(pattern: &str) -> Result<Glob, PatternError> {
    glob(pattern, false, false).map_err(|error| glob_error(pattern, &error))
}

fn command_pattern(pattern: &str) -> Result<CommandPattern, PatternError> {
    CommandPattern::parse(pattern).map_err(|error| {
        PatternError::new(error.to_string(), Some("write a program and its arguments, such as \"git push *\""))
    })
}

fn glob(text: &str, literal_separator: bool, case_insensitive: bool) -> Result<Glob, globset::Error> {
    GlobBuilder::new(text)
        .literal_separator(literal_separator)
        .case_insensitive(case_insensitive)
        .backslash_escape(true)
        .build()
}

fn glob_error(pattern: &str, error: &globset::Error) -> PatternError {
    PatternError::new(
        format!("invalid glob \"{pattern}\": {}", error.kind()),
        Some("see the glob syntax of the policy documentation; escape a literal *, ?, [ or { with \\"),
    )
}

/// Returns the host of a URL or of a `host[:port][/path]` target, without
/// user info or port.
pub(crate) fn host_of(target: &str) -> &str {
    let rest = match target.find("://") {
        Some(index) => target.get(index + 3..).unwrap_or(""),
        None => target,
    };
    // WHATWG URL parsers end the authority at a backslash too.
    let authority_end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end).unwrap_or(rest);
    let host_and_port = match authority.rfind('@') {
        Some(index) => authority.get(index + 1..).unwrap_or(""),
        None => authority,
    };
    if host_and_port.starts_with('[') {
        let end = host_and_port.find(']').map_or(host_and_port.len(), |index| index + 1);
        return host_and_port.get(..end).unwrap_or(host_and_port);
    }
    let host_end = host_and_port.find(':').unwrap_or(host_and_port.len());
    host_and_port.get(..host_end).unwrap_or(host_and_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_strips_everything_but_host() {
        let cases = [
            ("https://registry.npmjs.org/left-pad", "registry.npmjs.org"),
            ("https://user:pw@registry.npmjs.org@evil.example:8443/x", "evil.example"),
            ("github.com:443", "github.com"),
            ("http://[::1]:8080/", "[::1]"),
            ("example.org/path?q", "example.org"),
        ];
        for (target, host) in cases {
            assert_eq!(host_of(target), host, "{target}");
        }
    }

    #[test]
    fn path_patterns_pick_their_anchor() {
        let home = Some(Path::new("/home/u"));
        let cases = [
            ("/etc/**", PathAnchor::Absolute, "/etc/**"),
            ("~/.ssh/*", PathAnchor::Absolute, "/home/u/.ssh/*"),
            ("*.pem", PathAnchor::Anywhere, "**/*.pem"),
            ("**/.env", PathAnchor::Anywhere, "**/.env"),
            ("./src/*.rs", PathAnchor::Worktree, "src/*.rs"),
            ("secrets/", PathAnchor::Anywhere, "**/secrets/"),
        ];
        for (pattern, anchor, text) in cases {
            assert_eq!(anchor_path(pattern, home), Ok((anchor, text.to_string())), "{pattern}");
        }
    }

    #[test]
    fn double_star_prefix_matches_absolute_paths() {
        let glob = glob("**/.env", true, false).map(|glob| glob.compile_matcher());
        assert!(glob.as_ref().is_ok_and(|m| m.is_match("/home/u/app/.env")));
        assert!(glob.as_ref().is_ok_and(|m| m.is_match(".env")));
        assert!(glob.as_ref().is_ok_and(|m| !m.is_match("/home/u/app/.envrc")));
    }

    /// The index must find exactly the rules that trying every pattern finds.
    #[test]
    fn command_index_matches_every_pattern_tried() {
        let patterns = [
            "rm -rf *", "git push *", "git *", "npm install *", "npm run *", "sudo *", "r? *", "*sh -c *",
            "[gn]it status", "cat package.json", "curl *", "xargs rm *", "find * -delete", "tail -n *", "env *",
        ];
        let compiled: Vec<(CommandPattern, usize)> = patterns
            .iter()
            .enumerate()
            .filter_map(|(id, pattern)| command_pattern(pattern).ok().map(|compiled| (compiled, id)))
            .collect();
        assert_eq!(compiled.len(), patterns.len());
        let index = CommandIndex::new(compiled.clone());

        let context = crate::shell::ShellContext {
            cwd: "/w/job".into(),
            home: Some("/home/u".into()),
            worktree: "/w/job".into(),
        };
        let lines = [
            "rm -rf build && git push origin main; git status | tail -n 5",
            "sudo rm -rf /tmp/x; env FOO=1 npm install left-pad",
            "bash -c 'rm -rf x'; sh -c \"git push\"; find . -name '*.o' -delete",
            "ls | xargs rm -f; timeout 5 curl http://127.0.0.1/; nice -n 5 npm run build",
            "cat package.json; rg TODO; r2 x; nit status",
        ];
        let (mut compared, mut matched) = (0, 0);
        for line in lines {
            for command in crate::shell::analyse(line, &context).sub_commands {
                let mut indexed = Vec::new();
                index.collect(&command, &mut indexed);
                let tried: Vec<usize> = compiled.iter().filter(|(pattern, _)| pattern.matches(&command)).map(|(_, id)| *id).collect();
                assert_eq!(indexed, tried, "sub-command {:?}", command.text);
                compared += 1;
                matched += tried.len();
            }
        }
        assert!(compared > 15, "only {compared} sub-commands compared");
        assert!(matched > 10, "only {matched} matches found");
    }
}
