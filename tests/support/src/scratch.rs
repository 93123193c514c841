//! A scratch directory of one test, removed with everything in it when the test ends.

use std::path::{Path, PathBuf};

use crate::unique;

/// A fresh directory under the system's temporary directory; removed on drop.
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// Creates `$TMPDIR/ringcast-<name>-<pid>-<n>`.
    pub fn new(name: &str) -> ScratchDir {
        let path = std::env::temp_dir().join(unique(&format!("ringcast-{name}")));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        ScratchDir(path)
    }

    /// `$TMPDIR/ringcast-<name>`, emptied first: for a directory whose path must be the same
    /// on every run (cargo keys a path dependency's artifacts by its path). `name` must be
    /// unique to the caller, since a second user of the path would lose its files.
    pub fn fixed(name: &str) -> ScratchDir {
        let path = std::env::temp_dir().join(format!("ringcast-{name}"));
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("remove the leftover {}: {e}", path.display()),
        }
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        ScratchDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `text` to `<dir>/<name>` and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
