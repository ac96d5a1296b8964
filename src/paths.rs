//! Path normalisation and worktree containment. STUB: the shell branch replaces this.

use std::path::{Path, PathBuf};

/// Makes `path` absolute against `cwd`, expands `~` and `$HOME`, and removes
/// `.`, `..` and repeated separators without touching the file system.
pub fn normalize(path: &str, cwd: &Path, _home: Option<&Path>) -> PathBuf {
    cwd.join(path)
}

/// Resolves symlinks in the longest existing prefix of an absolute path.
pub fn resolve(path: &Path) -> PathBuf {
    path.to_path_buf()
}

/// Tells whether `path` lies inside `worktree` (both absolute, normalised).
pub fn is_inside(path: &Path, worktree: &Path) -> bool {
    path.starts_with(worktree)
}
