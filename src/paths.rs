//! Path normalisation and worktree containment.
//!
//! `normalize` is purely lexical: it never touches the disk, so `a/link/..`
//! becomes `a` even when `link` is a symlink. `resolve` then follows the
//! symlinks that exist on disk. Callers that compare against a worktree should
//! pass both the path and the worktree through `resolve`, so that a link inside
//! the worktree that points elsewhere counts as outside.
//!
//! Paths that look like Windows paths (`C:\w\x`, `C:/w/x`, `\\server\share`)
//! are normalised with `\` separators and compared by their components, on any
//! host; Windows and macOS volumes are case-insensitive by default, so the
//! comparison functions take a [`CaseSensitivity`].

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};

/// Maximum number of symlinks `resolve` follows before it gives up and
/// returns the path reached so far; the Linux kernel uses the same bound
/// (`MAXSYMLINKS`, 40).
const MAX_SYMLINK_HOPS: usize = 40;

/// Whether path comparison ignores letter case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseSensitivity {
    Sensitive,
    /// ASCII and Unicode simple case folding via `str::to_lowercase`.
    Insensitive,
}

impl CaseSensitivity {
    /// Returns the default of the host's usual file system: insensitive on
    /// macOS (APFS) and Windows (NTFS), sensitive elsewhere.
    pub fn native() -> CaseSensitivity {
        if cfg!(any(target_os = "macos", target_os = "windows")) {
            CaseSensitivity::Insensitive
        } else {
            CaseSensitivity::Sensitive
        }
    }
}

/// A path split into its root (`/`, `C:`, `\\server\share`) and its named
/// components.
#[derive(Debug, Clone, PartialEq)]
struct Parts {
    root: String,
    windows: bool,
    names: Vec<String>,
}

impl Parts {
    fn to_path(&self) -> PathBuf {
        if self.windows {
            let mut text = format!("{}\\", self.root);
            text.push_str(&self.names.join("\\"));
            return PathBuf::from(text);
        }
        let mut text = String::from("/");
        text.push_str(&self.names.join("/"));
        PathBuf::from(text)
    }
}

/// Tells whether `text` starts with a drive letter (`C:\`, `c:/`) or a UNC
/// prefix (`\\server`).
pub fn is_windows_path(text: &str) -> bool {
    let bytes = text.as_bytes();
    let drive = bytes.len() >= 3
        && bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.get(1) == Some(&b':')
        && matches!(bytes.get(2), Some(b'\\') | Some(b'/'));
    drive || text.starts_with("\\\\")
}

/// Splits an absolute path into root and components; `None` for a relative one.
fn split_absolute(text: &str) -> Option<Parts> {
    if is_windows_path(text) {
        return Some(split_windows(text));
    }
    let rest = text.strip_prefix('/')?;
    Some(Parts {
        root: String::new(),
        windows: false,
        names: split_names(rest, &['/']),
    })
}

fn split_windows(text: &str) -> Parts {
    if let Some(unc) = text.strip_prefix("\\\\") {
        let mut pieces = unc.split(['\\', '/']).filter(|piece| !piece.is_empty());
        let server = pieces.next().unwrap_or_default();
        let share = pieces.next().unwrap_or_default();
        let rest: Vec<&str> = pieces.collect();
        return Parts {
            root: format!("\\\\{server}\\{share}"),
            windows: true,
            names: split_names(&rest.join("\\"), &['\\', '/']),
        };
    }
    let (drive, rest) = text.split_at(2);
    Parts {
        root: drive.to_ascii_uppercase(),
        windows: true,
        names: split_names(rest, &['\\', '/']),
    }
}

fn split_names(text: &str, separators: &[char]) -> Vec<String> {
    text.split(separators)
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect()
}

/// Removes `.` and `..` lexically; `..` at the root stays at the root.
fn fold_dots(names: Vec<String>) -> Vec<String> {
    let mut folded: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        match name.as_str() {
            "." => {}
            ".." => {
                folded.pop();
            }
            _ => folded.push(name),
        }
    }
    folded
}

/// Replaces a leading `~`, `$HOME` or `${HOME}` with `home`. With no home the
/// prefix becomes `/`, which lies outside every worktree except `/` itself,
/// so an unknown home directory never looks like the worktree.
fn expand_home<'p>(path: &'p str, home: Option<&Path>) -> Cow<'p, str> {
    for prefix in ["~", "$HOME", "${HOME}"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            if rest.is_empty() || rest.starts_with('/') || rest.starts_with('\\') {
                let home_text = home.map_or(Cow::Borrowed("/"), |home| home.to_string_lossy());
                return Cow::Owned(format!("{home_text}/{rest}"));
            }
        }
    }
    Cow::Borrowed(path)
}

/// Makes `path` absolute against `cwd`, expands a leading `~`, `~/`, `$HOME`
/// or `${HOME}`, and removes `.`, `..` (never above the root), repeated and
/// trailing separators, without touching the file system.
///
/// A Windows-looking path, or a relative path under a Windows-looking `cwd`,
/// comes back with `\` separators and an upper-case drive letter.
pub fn normalize(path: &str, cwd: &Path, home: Option<&Path>) -> PathBuf {
    let parts = absolute_parts(path, cwd, home);
    Parts {
        names: fold_dots(parts.names),
        ..parts
    }
    .to_path()
}

/// Splits `path` made absolute against `cwd`, with `~` expanded and `.` and
/// `..` kept.
fn absolute_parts(path: &str, cwd: &Path, home: Option<&Path>) -> Parts {
    let expanded = expand_home(path, home);
    match split_absolute(&expanded) {
        Some(parts) => parts,
        None => {
            let cwd_text = cwd.to_string_lossy();
            let mut base = split_absolute(&cwd_text).unwrap_or(Parts {
                root: String::new(),
                windows: false,
                names: Vec::new(),
            });
            let separators: &[char] = if base.windows { &['\\', '/'] } else { &['/'] };
            base.names.extend(split_names(&expanded, separators));
            base
        }
    }
}

/// Finds the file `path` names as the kernel does: like `normalize` followed
/// by `resolve_below`, except that a `..` after a symlink leads to the parent
/// of the link's target, not back to the link's own directory. `base` must be
/// resolved already.
pub fn locate(path: &str, cwd: &Path, home: Option<&Path>, base: &Path) -> PathBuf {
    locate_with(path, cwd, home, base, &Disk).path
}

/// A path after its symlinks are resolved, with what `lstat` found at that
/// path: `None` when the file does not exist, or when the walk did not end
/// with a look at it (the worktree itself, a link past the hop limit).
/// Callers that need the file's metadata, such as the hard-link check,
/// reuse it instead of another system call.
#[derive(Debug)]
pub struct Resolved {
    pub path: PathBuf,
    pub metadata: Option<fs::Metadata>,
}

/// Like [`locate`], with the metadata of the file found. The last component
/// is probed with `lstat`, which costs a little more than the `readlink`
/// used for the others but answers the caller's next question too.
pub fn locate_resolved(path: &str, cwd: &Path, home: Option<&Path>, base: &Path) -> Resolved {
    let lookup = LastMetadata::default();
    let located = locate_with(path, cwd, home, base, &lookup);
    let metadata = lookup.take_for(&located.path);
    Resolved { path: located.path, metadata }
}

/// Asks the file system like [`Disk`], but with `lstat`, and keeps the
/// metadata of the latest plain file or directory it found.
#[derive(Debug, Default)]
struct LastMetadata {
    latest: std::cell::RefCell<Option<(PathBuf, fs::Metadata)>>,
}

impl LastMetadata {
    /// Returns the metadata found at `path`, if the latest look was at it.
    fn take_for(&self, path: &Path) -> Option<fs::Metadata> {
        let latest = self.latest.try_borrow_mut().ok()?.take()?;
        (latest.0 == path).then_some(latest.1)
    }
}

impl Lookup for LastMetadata {
    fn entry(&self, path: &Path) -> Entry {
        if is_per_process(path) {
            return Entry::Plain;
        }
        let found = fs::symlink_metadata(path);
        let entry = match &found {
            Err(_) => Entry::Missing,
            Ok(metadata) if metadata.file_type().is_symlink() => Entry::Link(fs::read_link(path).ok()),
            Ok(_) => Entry::Plain,
        };
        if let Ok(mut latest) = self.latest.try_borrow_mut() {
            *latest = match (&entry, found) {
                (Entry::Plain, Ok(metadata)) => Some((path.to_path_buf(), metadata)),
                _ => None,
            };
        }
        entry
    }
}

/// A path found by [`locate_with`], and whether resolving it again would
/// return it unchanged.
pub(crate) struct Located {
    pub path: PathBuf,
    /// True when every symlink met was followed (none past the hop limit,
    /// none unreadable). Such a path has no symlink left in its existing
    /// prefix, so `resolve` and `resolve_below` return it as it is, as long
    /// as the file system does not change.
    pub settled: bool,
}

/// Like [`locate`], reading the file system through `lookup`.
pub(crate) fn locate_with(
    path: &str,
    cwd: &Path,
    home: Option<&Path>,
    base: &Path,
    lookup: &dyn Lookup,
) -> Located {
    let mut resolver = Resolver::new(lookup);
    if let Some(normalized) = normalize_plain(path, cwd, home) {
        let path = resolver.below(&normalized, base);
        return Located { path, settled: resolver.settled };
    }
    let parts = absolute_parts(path, cwd, home);
    if parts.windows || !parts.names.iter().any(|name| name == "..") {
        let normalized = Parts { names: fold_dots(parts.names), ..parts }.to_path();
        let path = resolver.below(&normalized, base);
        return Located { path, settled: resolver.settled };
    }

    let mut current = Parts { names: Vec::new(), ..parts.clone() };
    for name in &parts.names {
        match name.as_str() {
            "." => {}
            ".." => {
                let resolved = Resolver::new(lookup).below(&current.to_path(), base);
                let resolved_text = resolved.to_string_lossy();
                if let Some(physical) = split_absolute(&resolved_text) {
                    current = physical;
                }
                current.names.pop();
            }
            _ => current.names.push(name.clone()),
        }
    }
    let path = resolver.below(&current.to_path(), base);
    Located { path, settled: resolver.settled }
}

/// Returns what `normalize` returns for a Unix `path` without `..` under a
/// plain absolute `cwd` (see `is_plain_absolute`), built without a list of
/// components; `None` for any other path.
fn normalize_plain(path: &str, cwd: &Path, home: Option<&Path>) -> Option<PathBuf> {
    let expanded = expand_home(path, home);
    let cwd = cwd.to_str()?;
    if is_windows_path(&expanded) || !is_plain_absolute(cwd) {
        return None;
    }
    let (mut text, rest) = match expanded.strip_prefix('/') {
        Some(rest) => (String::from("/"), rest),
        None => (String::from(cwd), &*expanded),
    };
    text.reserve(rest.len() + 1);
    for name in rest.split('/') {
        match name {
            "" | "." => {}
            ".." => return None,
            _ => {
                if !text.ends_with('/') {
                    text.push('/');
                }
                text.push_str(name);
            }
        }
    }
    Some(PathBuf::from(text))
}

/// Resolves the symlinks in `path` (absolute and normalised) component by
/// component, as far as the path exists. Components past the longest existing
/// prefix are appended unchanged, so a file not yet created under a symlinked
/// directory resolves through the link. Dangling links are followed too,
/// because writing through one creates its target. Windows-looking paths on a
/// non-Windows host are returned as they are.
pub fn resolve(path: &Path) -> PathBuf {
    Resolver::new(&Disk).resolve(path, 0)
}

/// Like [`resolve`], but checks only the components below `base` when `path`
/// lies inside it. `base` must already be resolved (a job's worktree is, at
/// registration), so its own components need no file-system call again.
pub fn resolve_below(path: &Path, base: &Path) -> PathBuf {
    resolve_below_with(path, base, &Disk)
}

/// Like [`resolve_below`], reading the file system through `lookup`.
pub(crate) fn resolve_below_with(path: &Path, base: &Path, lookup: &dyn Lookup) -> PathBuf {
    Resolver::new(lookup).below(path, base)
}

/// What `lstat` found at one path, with the link target when it is a symlink.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entry {
    /// `lstat` failed: the path does not exist, or a parent is no directory.
    Missing,
    /// Anything but a symlink.
    Plain,
    /// A symlink, with its target, or `None` when `readlink` failed.
    Link(Option<PathBuf>),
}

/// Reads one path of the file system without following a final symlink.
pub(crate) trait Lookup {
    fn entry(&self, path: &Path) -> Entry;
}

/// Asks the file system every time.
pub(crate) struct Disk;

/// Folders whose links the kernel makes per process: `/proc/self/cwd` or
/// `/proc/self/fd/1` (which `/dev/fd/1` leads to) read here name the
/// monitor's own folder or file, not the agent's. Their links are not
/// followed, so such a path stays where it is written, outside any
/// worktree.
const PER_PROCESS_LINKS: &[&str] = &["/proc/"];

fn is_per_process(path: &Path) -> bool {
    let bytes = path.as_os_str().as_encoded_bytes();
    PER_PROCESS_LINKS.iter().any(|prefix| bytes.starts_with(prefix.as_bytes()))
}

impl Lookup for Disk {
    fn entry(&self, path: &Path) -> Entry {
        if is_per_process(path) {
            return Entry::Plain;
        }
        // One `readlink` costs less than `lstat` and tells the three cases
        // apart: EINVAL means the file exists and is no symlink. Any other
        // error, and a path that cannot reach the kernel, gets `lstat`.
        #[cfg(unix)]
        if !path.as_os_str().as_encoded_bytes().contains(&0) {
            match fs::read_link(path) {
                Ok(target) => return Entry::Link(Some(target)),
                Err(error) => match error.kind() {
                    std::io::ErrorKind::InvalidInput => return Entry::Plain,
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => return Entry::Missing,
                    _ => {}
                },
            }
        }
        match fs::symlink_metadata(path) {
            Err(_) => Entry::Missing,
            Ok(metadata) if metadata.file_type().is_symlink() => Entry::Link(fs::read_link(path).ok()),
            Ok(_) => Entry::Plain,
        }
    }
}

/// Remembers the file-system results, so that the many paths of one
/// command line that share a prefix cost one `lstat` per directory. Keep one
/// only as long as the file system may be taken as unchanged (one analysis).
#[derive(Debug, Default)]
pub(crate) struct CachedDisk {
    /// Searched linearly: a command line names few directories, and comparing
    /// a few paths costs less than hashing one.
    entries: std::cell::RefCell<Vec<(PathBuf, Entry)>>,
}

/// Number of answers a `CachedDisk` keeps. Later paths go to the disk, so a
/// huge command line costs no more than it did without the cache.
const CACHED_ENTRIES: usize = 64;

impl CachedDisk {
    /// Tells whether this cache saw that nothing exists at `path`.
    pub(crate) fn saw_missing(&self, path: &Path) -> bool {
        self.entries.try_borrow().is_ok_and(|entries| {
            entries
                .iter()
                .any(|(known, entry)| matches!(entry, Entry::Missing) && known.as_os_str() == path.as_os_str())
        })
    }
}

impl Lookup for CachedDisk {
    fn entry(&self, path: &Path) -> Entry {
        let known = self.entries.try_borrow().ok().and_then(|entries| {
            entries
                .iter()
                .find(|(known, _)| known.as_os_str() == path.as_os_str())
                .map(|(_, entry)| entry.clone())
        });
        if let Some(entry) = known {
            return entry;
        }
        let entry = Disk.entry(path);
        if let Ok(mut entries) = self.entries.try_borrow_mut() {
            if entries.len() < CACHED_ENTRIES {
                entries.push((path.to_path_buf(), entry.clone()));
            }
        }
        entry
    }
}

/// One resolution: the symlink hop budget and whether every link was followed.
struct Resolver<'l> {
    lookup: &'l dyn Lookup,
    hops_left: usize,
    settled: bool,
}

impl<'l> Resolver<'l> {
    fn new(lookup: &'l dyn Lookup) -> Resolver<'l> {
        Resolver { lookup, hops_left: MAX_SYMLINK_HOPS, settled: true }
    }

    fn below(&mut self, path: &Path, base: &Path) -> PathBuf {
        match trusted_depth(path, base) {
            Some(depth) => self.resolve(path, depth),
            None => self.resolve(path, 0),
        }
    }

    /// Resolves `path`, taking its first `trusted` named components as resolved.
    fn resolve(&mut self, path: &Path, trusted: usize) -> PathBuf {
        let text = path.to_string_lossy();
        if is_plain_absolute(&text) {
            // What `split_absolute` and `fold_dots` return for such a path,
            // without allocating.
            let names: Vec<&str> = text.split('/').filter(|name| !name.is_empty()).collect();
            return self.resolve_names("", false, &names, trusted);
        }
        let parts = match split_absolute(&text) {
            Some(parts) if !parts.windows || cfg!(windows) => parts,
            _ => return path.to_path_buf(),
        };
        let names = fold_dots(parts.names);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.resolve_names(&parts.root, parts.windows, &names, trusted)
    }

    /// Resolves the path made of `root` and `names` (folded already).
    fn resolve_names(&mut self, root: &str, windows: bool, names: &[&str], trusted: usize) -> PathBuf {
        let mut current = PathText::new(root, windows);
        for (done, name) in names.iter().enumerate() {
            let mark = current.mark();
            current.push(name);
            if done < trusted {
                continue;
            }
            let target = match self.lookup.entry(current.as_path()) {
                Entry::Missing => {
                    for rest in names.iter().skip(done + 1) {
                        current.push(rest);
                    }
                    return current.into_path();
                }
                Entry::Plain => continue,
                Entry::Link(_) if self.hops_left == 0 => {
                    self.settled = false;
                    continue;
                }
                Entry::Link(target) => target,
            };
            self.hops_left -= 1;
            let Some(target) = target else {
                self.settled = false;
                continue;
            };
            current.restore(mark);
            let joined = normalize(&target.to_string_lossy(), current.as_path(), None);
            let resolved = self.resolve(&joined, 0);
            let resolved_text = resolved.to_string_lossy();
            match split_absolute(&resolved_text) {
                Some(resolved_parts) => current = PathText::from_parts(&resolved_parts),
                None => current.push(name),
            }
        }
        current.into_path()
    }
}

/// A path built one component at a time, spelled as `Parts::to_path` spells it.
struct PathText {
    text: String,
    separator: char,
    empty: bool,
}

impl PathText {
    fn new(root: &str, windows: bool) -> PathText {
        let separator = if windows { '\\' } else { '/' };
        let mut text = String::with_capacity(root.len() + 64);
        text.push_str(root);
        text.push(separator);
        PathText { text, separator, empty: true }
    }

    fn from_parts(parts: &Parts) -> PathText {
        let mut text = PathText::new(&parts.root, parts.windows);
        for name in &parts.names {
            text.push(name);
        }
        text
    }

    fn push(&mut self, name: &str) {
        if !self.empty {
            self.text.push(self.separator);
        }
        self.text.push_str(name);
        self.empty = false;
    }

    fn mark(&self) -> (usize, bool) {
        (self.text.len(), self.empty)
    }

    fn restore(&mut self, (len, empty): (usize, bool)) {
        self.text.truncate(len);
        self.empty = empty;
    }

    fn as_path(&self) -> &Path {
        Path::new(&self.text)
    }

    fn into_path(self) -> PathBuf {
        PathBuf::from(self.text)
    }
}

/// Returns how many leading components of `path` `resolve_below` may skip:
/// the depth of `base` when `path` lies inside it, `None` otherwise.
fn trusted_depth(path: &Path, base: &Path) -> Option<usize> {
    if let (Some(path_text), Some(base_text)) = (path.to_str(), base.to_str()) {
        if is_plain_absolute(path_text) && is_plain_absolute(base_text) {
            return plain_depth(path_text, base_text);
        }
    }
    let relative = relative_to(path, base)?;
    Some(path.components().count().saturating_sub(relative.components().count()).saturating_sub(1))
}

/// Tells whether `text` is a Unix absolute path with no empty, `.` or `..`
/// component and no trailing separator, on which `relative_to` and
/// `Path::components` agree with a plain split on `/`.
fn is_plain_absolute(text: &str) -> bool {
    match text.as_bytes() {
        b"/" => true,
        [b'/', rest @ ..] => rest
            .split(|&byte| byte == b'/')
            .all(|name| !name.is_empty() && name != b"." && name != b".."),
        _ => false,
    }
}

/// `trusted_depth` for two plain absolute paths.
fn plain_depth(path: &str, base: &str) -> Option<usize> {
    if base == "/" {
        return Some(0);
    }
    let inside = path == base || path.strip_prefix(base).is_some_and(|rest| rest.starts_with('/'));
    inside.then(|| base.bytes().filter(|&byte| byte == b'/').count())
}

/// Tells whether `path` lies inside `worktree` or is the worktree itself,
/// comparing whole components case-sensitively (`/w/job` does not contain
/// `/w/job-2`). Both paths should be absolute and normalised.
pub fn is_inside(path: &Path, worktree: &Path) -> bool {
    is_inside_with(path, worktree, CaseSensitivity::Sensitive)
}

/// Like [`is_inside`], with the given case sensitivity.
pub fn is_inside_with(path: &Path, worktree: &Path, case: CaseSensitivity) -> bool {
    if let Some(rest) = plain_relative(path, worktree, case) {
        return rest.is_some();
    }
    relative_parts(path, worktree, case).is_some()
}

/// Returns `path` relative to `worktree` (empty for the worktree itself), or
/// `None` when the path lies outside it. Comparison is case-sensitive.
pub fn relative_to(path: &Path, worktree: &Path) -> Option<PathBuf> {
    relative_to_with(path, worktree, CaseSensitivity::Sensitive)
}

/// Like [`relative_to`], with the given case sensitivity.
pub fn relative_to_with(path: &Path, worktree: &Path, case: CaseSensitivity) -> Option<PathBuf> {
    if let Some(rest) = plain_relative(path, worktree, case) {
        return rest.map(PathBuf::from);
    }
    let rest = relative_parts(path, worktree, case)?;
    Some(rest.iter().collect())
}

/// Compares two plain absolute paths (see `is_plain_absolute`) as text,
/// which for them gives what `relative_parts` gives without splitting
/// either: `Some(Some(rest))` inside, `Some(None)` outside. Returns `None`
/// for other paths and for case-insensitive comparison.
fn plain_relative<'p>(path: &'p Path, worktree: &Path, case: CaseSensitivity) -> Option<Option<&'p str>> {
    let (path, worktree) = (path.to_str()?, worktree.to_str()?);
    if case != CaseSensitivity::Sensitive || !is_plain_absolute(path) || !is_plain_absolute(worktree) {
        return None;
    }
    if worktree == "/" {
        return Some(path.get(1..));
    }
    let rest = path.strip_prefix(worktree).and_then(|rest| match rest {
        "" => Some(""),
        _ => rest.strip_prefix('/'),
    });
    Some(rest)
}

fn relative_parts(path: &Path, worktree: &Path, case: CaseSensitivity) -> Option<Vec<String>> {
    let path_text = path.to_string_lossy();
    let worktree_text = worktree.to_string_lossy();
    let path_parts = split_absolute(&path_text)?;
    let worktree_parts = split_absolute(&worktree_text)?;
    let fold = |text: &str| match case {
        CaseSensitivity::Sensitive => text.to_string(),
        CaseSensitivity::Insensitive => text.to_lowercase(),
    };
    if path_parts.windows != worktree_parts.windows
        || fold(&path_parts.root) != fold(&worktree_parts.root)
    {
        return None;
    }
    let path_names = fold_dots(path_parts.names);
    let worktree_names = fold_dots(worktree_parts.names);
    if path_names.len() < worktree_names.len() {
        return None;
    }
    let same = path_names
        .iter()
        .zip(&worktree_names)
        .all(|(left, right)| fold(left) == fold(right));
    if !same {
        return None;
    }
    Some(path_names.into_iter().skip(worktree_names.len()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(path: &str, cwd: &str) -> String {
        normalize(path, Path::new(cwd), Some(Path::new("/home/u")))
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn normalize_resolves_table_cases() {
        let cases = [
            ("x", "/w/job", "/w/job/x"),
            ("./x/./y", "/w/job", "/w/job/x/y"),
            ("../x", "/w/job", "/w/x"),
            ("../../../../x", "/w/job", "/x"),
            ("/a//b///c/", "/w", "/a/b/c"),
            ("/", "/w", "/"),
            ("..", "/", "/"),
            ("", "/w/job", "/w/job"),
            (".", "/w/job", "/w/job"),
            ("~", "/w", "/home/u"),
            ("~/x", "/w", "/home/u/x"),
            ("$HOME/x/../y", "/w", "/home/u/y"),
            ("${HOME}", "/w", "/home/u"),
            ("~user/x", "/w", "/w/~user/x"),
            ("$HOMER/x", "/w", "/w/$HOMER/x"),
            ("a/b/../../..", "/w/job", "/w"),
            ("C:\\w\\job\\..\\x", "/ignored", "C:\\w\\x"),
            ("c:/w//job/./y/", "/ignored", "C:\\w\\job\\y"),
            ("sub\\f.txt", "D:\\w\\job", "D:\\w\\job\\sub\\f.txt"),
            ("..\\..\\..\\..", "D:\\w\\job", "D:\\"),
            ("\\\\srv\\share\\a\\..\\b", "/w", "\\\\srv\\share\\b"),
        ];
        for (path, cwd, expected) in cases {
            assert_eq!(norm(path, cwd), expected, "normalize({path:?}, {cwd:?})");
        }
    }

    #[test]
    fn normalize_without_home_uses_root() {
        assert_eq!(normalize("~/x", Path::new("/w"), None), PathBuf::from("/x"));
    }

    #[test]
    fn is_inside_compares_components() {
        let cases = [
            ("/w/job", "/w/job", true),
            ("/w/job/a/b", "/w/job", true),
            ("/w/job-2", "/w/job", false),
            ("/w/jo", "/w/job", false),
            ("/w", "/w/job", false),
            ("/", "/", true),
            ("/etc", "/", true),
            ("/w/job/../x", "/w/job", false),
            ("C:\\w\\job\\x", "C:\\w\\job", true),
            ("C:\\w\\job-2", "C:\\w\\job", false),
            ("D:\\w\\job", "C:\\w\\job", false),
            ("/w/job", "C:\\w\\job", false),
        ];
        for (path, worktree, expected) in cases {
            assert_eq!(
                is_inside(Path::new(path), Path::new(worktree)),
                expected,
                "is_inside({path:?}, {worktree:?})"
            );
        }
    }

    #[test]
    fn case_insensitive_containment() {
        let path = Path::new("/Users/Me/Job/src");
        let worktree = Path::new("/users/me/job");
        assert!(!is_inside(path, worktree));
        assert!(is_inside_with(path, worktree, CaseSensitivity::Insensitive));
        assert!(is_inside_with(
            Path::new("c:\\W\\JOB\\x"),
            Path::new("C:\\w\\job"),
            CaseSensitivity::Insensitive
        ));
    }

    #[test]
    fn relative_to_strips_worktree() {
        let worktree = Path::new("/w/job");
        assert_eq!(
            relative_to(Path::new("/w/job/a/b"), worktree),
            Some(PathBuf::from("a/b"))
        );
        assert_eq!(
            relative_to(Path::new("/w/job"), worktree),
            Some(PathBuf::new())
        );
        assert_eq!(relative_to(Path::new("/w/job-2/a"), worktree), None);
        assert_eq!(relative_to(Path::new("relative"), worktree), None);
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mc-gov-paths-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        resolve(&dir)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn per_process_links_are_not_followed() {
        // Followed here, `/proc/self/cwd` would name this test's folder,
        // which stands in for a worktree holding the monitor's own folder.
        let worktree = resolve(&std::env::current_dir().unwrap());
        let cases = [
            ("/proc/self/cwd/pwn", "/proc/self/cwd/pwn"),
            ("/proc/self/cwd/../../pwn", "/proc/pwn"),
            ("/proc/thread-self/cwd/x", "/proc/thread-self/cwd/x"),
            // `/dev/fd` is a plain link to `/proc/self/fd`, which is not followed.
            ("/dev/fd/1", "/proc/self/fd/1"),
        ];
        for (path, expected) in cases {
            let resolved = resolve_below(Path::new(path), &worktree);
            assert_eq!(resolved, Path::new(expected), "{path}");
            assert!(!is_inside(&resolved, &worktree), "{path}");
            let located = locate_resolved(path, &worktree, None, &worktree);
            assert_eq!(located.path, Path::new(expected), "{path}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlink_escape_resolves_outside() {
        let root = temp_dir("escape");
        let worktree = root.join("job");
        let outside = root.join("outside");
        fs::create_dir_all(&worktree).unwrap();
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, worktree.join("link")).unwrap();

        let existing = resolve(&worktree.join("link"));
        assert_eq!(existing, outside);
        let not_yet = resolve(&worktree.join("link/new/file.txt"));
        assert_eq!(not_yet, outside.join("new/file.txt"));
        assert!(!is_inside(&not_yet, &worktree));
        assert!(is_inside(&resolve(&worktree.join("plain/file")), &worktree));
        fs::remove_dir_all(&root).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn resolve_below_follows_links_under_base() {
        let root = temp_dir("below");
        let worktree = root.join("job");
        let outside = root.join("outside");
        fs::create_dir_all(worktree.join("src")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, worktree.join("src/link")).unwrap();

        assert_eq!(resolve_below(&worktree.join("src/link/f"), &worktree), outside.join("f"));
        assert_eq!(resolve_below(&worktree.join("src/a.rs"), &worktree), worktree.join("src/a.rs"));
        assert_eq!(resolve_below(&worktree, &worktree), worktree);
        // Outside the base, every component is checked as `resolve` does.
        let through = root.join("job/src/link/g");
        assert_eq!(resolve_below(&through, &outside), outside.join("g"));
        fs::remove_dir_all(&root).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn dot_dot_after_link_leaves_the_worktree() {
        let root = temp_dir("dotdot");
        let worktree = root.join("job");
        let target = root.join("outside/sub");
        fs::create_dir_all(worktree.join("src")).unwrap();
        fs::create_dir_all(&target).unwrap();
        std::os::unix::fs::symlink(&target, worktree.join("src/l2")).unwrap();

        let cwd = worktree.clone();
        assert_eq!(locate("src/l2/../x", &cwd, None, &worktree), root.join("outside/x"));
        assert_eq!(locate("src/l2/../../job/a", &cwd, None, &worktree), worktree.join("a"));
        assert_eq!(locate("src/../a", &cwd, None, &worktree), worktree.join("a"));
        assert_eq!(locate("src/l2/f", &cwd, None, &worktree), target.join("f"));
        fs::remove_dir_all(&root).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn dangling_and_relative_links_resolve() {
        let root = temp_dir("dangling");
        let worktree = root.join("job");
        fs::create_dir_all(&worktree).unwrap();
        std::os::unix::fs::symlink(root.join("missing/target"), worktree.join("dangling")).unwrap();
        std::os::unix::fs::symlink("../sibling", worktree.join("up")).unwrap();
        std::os::unix::fs::symlink("loop", worktree.join("loop")).unwrap();

        assert_eq!(
            resolve(&worktree.join("dangling")),
            root.join("missing/target")
        );
        assert_eq!(resolve(&worktree.join("up/f")), root.join("sibling/f"));
        assert!(resolve(&worktree.join("loop/f")).starts_with(&worktree));
        fs::remove_dir_all(&root).unwrap();
    }
    /// `resolve` and `locate` as they were before resolution went through
    /// `Resolver`, kept as the oracle the faster code must agree with.
    mod reference {
        use super::super::*;

        pub fn locate(path: &str, cwd: &Path, home: Option<&Path>, base: &Path) -> PathBuf {
            let parts = absolute_parts(path, cwd, home);
            if parts.windows || !parts.names.iter().any(|name| name == "..") {
                let normalized = Parts { names: fold_dots(parts.names), ..parts }.to_path();
                return resolve_below(&normalized, base);
            }
            let mut current = Parts { names: Vec::new(), ..parts.clone() };
            for name in &parts.names {
                match name.as_str() {
                    "." => {}
                    ".." => {
                        let resolved = resolve(&current.to_path());
                        if let Some(physical) = split_absolute(&resolved.to_string_lossy()) {
                            current = physical;
                        }
                        current.names.pop();
                    }
                    _ => current.names.push(name.clone()),
                }
            }
            resolve(&current.to_path())
        }

        pub fn resolve(path: &Path) -> PathBuf {
            resolve_with_budget(path, 0, &mut MAX_SYMLINK_HOPS.clone())
        }

        pub fn resolve_below(path: &Path, base: &Path) -> PathBuf {
            let Some(relative) = relative_to(path, base) else {
                return resolve(path);
            };
            let depth = path.components().count().saturating_sub(relative.components().count()).saturating_sub(1);
            resolve_with_budget(path, depth, &mut MAX_SYMLINK_HOPS.clone())
        }

        fn resolve_with_budget(path: &Path, trusted: usize, hops_left: &mut usize) -> PathBuf {
            let text = path.to_string_lossy();
            let parts = match split_absolute(&text) {
                Some(parts) if !parts.windows || cfg!(windows) => parts,
                _ => return path.to_path_buf(),
            };
            let names = fold_dots(parts.names.clone());
            let mut current = Parts { names: Vec::new(), ..parts };
            let mut index = 0;
            while let Some(name) = names.get(index) {
                index += 1;
                let mut next = current.clone();
                next.names.push(name.clone());
                if index <= trusted {
                    current = next;
                    continue;
                }
                let candidate = next.to_path();
                let Ok(metadata) = fs::symlink_metadata(&candidate) else {
                    current.names.extend(names.iter().skip(index - 1).cloned());
                    return current.to_path();
                };
                if !metadata.file_type().is_symlink() || *hops_left == 0 {
                    current = next;
                    continue;
                }
                *hops_left -= 1;
                let Ok(target) = fs::read_link(&candidate) else {
                    current = next;
                    continue;
                };
                let joined = normalize(&target.to_string_lossy(), &current.to_path(), None);
                let resolved = resolve_with_budget(&joined, 0, hops_left);
                match split_absolute(&resolved.to_string_lossy()) {
                    Some(resolved_parts) => current = resolved_parts,
                    None => current = next,
                }
            }
            current.to_path()
        }
    }

    /// Builds a worktree full of awkward links: escapes, chains, loops,
    /// dangling and relative ones, a file used as a directory.
    #[cfg(unix)]
    fn link_maze(name: &str) -> (PathBuf, PathBuf) {
        use std::os::unix::fs::symlink;
        let root = temp_dir(name);
        let worktree = root.join("job");
        fs::create_dir_all(worktree.join("src/app")).unwrap();
        fs::create_dir_all(root.join("outside/sub")).unwrap();
        fs::write(worktree.join("file"), "").unwrap();
        symlink(root.join("outside"), worktree.join("out")).unwrap();
        symlink("../job/src", worktree.join("src/up")).unwrap();
        symlink("self", worktree.join("self")).unwrap();
        symlink("ping", worktree.join("pong")).unwrap();
        symlink("pong", worktree.join("ping")).unwrap();
        symlink(root.join("missing/deep"), worktree.join("dangling")).unwrap();
        symlink("/", worktree.join("root")).unwrap();
        let mut previous = String::from("src");
        for hop in 0..45 {
            let link = format!("chain{hop}");
            symlink(&previous, worktree.join(&link)).unwrap();
            previous = link;
        }
        (root, worktree)
    }

    /// Returns every path of up to three components drawn from names that
    /// exercise each branch of the resolver, and a few odd spellings.
    fn maze_paths() -> Vec<String> {
        let names = [
            "src", "app", "out", "sub", "up", "self", "ping", "dangling", "root", "chain44", "chain3", "file",
            "new", "..", ".", "",
        ];
        let mut paths = Vec::new();
        for a in names {
            for b in names {
                for c in ["", "..", "x"] {
                    paths.push(format!("{a}/{b}/{c}"));
                }
            }
        }
        let odd = ["~", "~/src", "$HOME/out/x", "${HOME}", "/", "//x", "./src/./app/", "src//app", "/tmp/../x", "src/a\0b", "file/x/.."];
        paths.extend(odd.map(String::from));
        paths
    }

    #[cfg(unix)]
    #[test]
    fn resolver_agrees_with_the_reference() {
        let (root, worktree) = link_maze("oracle");
        let bases = [worktree.clone(), worktree.join("src"), root.join("outside"), PathBuf::from("/")];
        let cwds = [worktree.clone(), worktree.join("src/app")];
        let cached = CachedDisk::default();
        let home = worktree.join("src");
        // Only the odd spellings start with `~` or `$`, so only they are
        // tried with a home directory as well.
        let cases = maze_paths().into_iter().flat_map(|text| {
            let with_home = text.starts_with(['~', '$']).then(|| (text.clone(), Some(home.as_path())));
            [Some((text, None)), with_home].into_iter().flatten()
        });
        for (text, home) in cases {
            for cwd in &cwds {
                for base in &bases {
                    let expected = reference::locate(&text, cwd, home, base);
                    let fresh = locate_with(&text, cwd, home, base, &Disk);
                    let remembered = locate_with(&text, cwd, home, base, &cached);
                    assert_eq!(fresh.path, expected, "locate({text:?}) in {cwd:?} below {base:?}");
                    assert_eq!(remembered.path, expected, "cached locate({text:?}) in {cwd:?}");
                    assert_eq!(fresh.settled, remembered.settled, "settled of {text:?}");
                    let again = reference::resolve_below(&expected, base);
                    if fresh.settled {
                        assert_eq!(again, expected, "settled {text:?} resolves to itself");
                    }
                    assert_eq!(resolve_below_with(&expected, base, &cached), again, "resolve_below {expected:?}");
                    let normalized = normalize(&text, cwd, home);
                    assert_eq!(resolve_below(&normalized, base), reference::resolve_below(&normalized, base));
                    assert_eq!(resolve(&normalized), reference::resolve(&normalized));
                }
            }
        }
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn plain_containment_matches_components() {
        let paths = ["/", "/w", "/w/job", "/w/job/a/b", "/w/job-2", "/w/jo", "/w/job/../x", "/w//job/a", "/w/job/", "C:\\w"];
        for path in paths {
            for worktree in paths {
                let (path, worktree) = (Path::new(path), Path::new(worktree));
                let expected = relative_parts(path, worktree, CaseSensitivity::Sensitive).map(|rest| rest.iter().collect::<PathBuf>());
                assert_eq!(relative_to(path, worktree), expected, "relative_to({path:?}, {worktree:?})");
                assert_eq!(is_inside(path, worktree), expected.is_some(), "is_inside({path:?}, {worktree:?})");
            }
        }
    }

    #[test]
    fn trusted_depth_matches_components() {
        let cases = [
            ("/w/job/a", "/w/job", Some(2)),
            ("/w/job", "/w/job", Some(2)),
            ("/w/job-2", "/w/job", None),
            ("/etc", "/", Some(0)),
            ("/w/job/./a", "/w/job", Some(2)),
            ("/w/job/x/../a", "/w/job", Some(4)),
            ("/w//job/a", "/w/job", Some(2)),
        ];
        for (path, base, expected) in cases {
            assert_eq!(trusted_depth(Path::new(path), Path::new(base)), expected, "trusted_depth({path:?}, {base:?})");
        }
    }

    #[cfg(unix)]
    #[test]
    fn located_metadata_is_the_final_file() {
        use std::os::unix::fs::MetadataExt;
        let worktree = temp_dir("located-metadata");
        fs::create_dir_all(worktree.join("src")).unwrap();
        fs::write(worktree.join("src/a.ts"), "a").unwrap();
        fs::hard_link(worktree.join("src/a.ts"), worktree.join("src/b.ts")).unwrap();
        fs::write(worktree.join("c.ts"), "c").unwrap();
        std::os::unix::fs::symlink(worktree.join("c.ts"), worktree.join("src/link.ts")).unwrap();

        let located = |path: &str| locate_resolved(path, &worktree, None, &worktree);
        let linked = located("src/a.ts");
        assert_eq!(linked.path, worktree.join("src/a.ts"));
        assert_eq!(linked.metadata.map(|metadata| metadata.nlink()), Some(2));

        let through_link = located("src/link.ts");
        assert_eq!(through_link.path, worktree.join("c.ts"));
        assert_eq!(through_link.metadata.map(|metadata| (metadata.is_file(), metadata.nlink())), Some((true, 1)));

        assert!(located("src/new.ts").metadata.is_none());
        assert!(located("missing/dir/x.ts").metadata.is_none());
        assert!(located(".").metadata.is_none());
        fs::remove_dir_all(&worktree).unwrap();
    }
}
