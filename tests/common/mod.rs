//! Helpers shared by the integration tests.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A new folder under the system temp folder, removed with everything in it
/// when dropped. The name holds the process id and a counter, so tests that
/// run at once, in one process or several, never share one.
pub struct TempFolder {
    /// Real path, symlinks resolved, as the core compares paths.
    pub path: PathBuf,
}

impl TempFolder {
    pub fn new(prefix: &str) -> TempFolder {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let number = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{number}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary folder");
        let path = std::fs::canonicalize(&path).expect("resolve the temporary folder");
        TempFolder { path }
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
