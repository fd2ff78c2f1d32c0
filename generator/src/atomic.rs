//! Writing one file so that a reader sees either the old contents or the new, never half: a
//! temporary file in the same directory (so the rename stays on one filesystem), synced, then
//! renamed over the destination. Used for the key cache, the committed corpus and the reports.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically with the given Unix `mode` (0o600 for keys, 0o644 for
/// everything else), creating the parent directory if needed.
pub fn write_file_atomically(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let directory = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(directory)?;
    // The temporary file is created 0600, so a key is never readable by others, even briefly.
    let mut temporary = tempfile::Builder::new()
        .prefix(".anchorsmith-")
        .tempfile_in(directory)?;
    temporary.write_all(bytes)?;
    set_mode(temporary.as_file(), mode)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &std::fs::File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_whole_files_with_the_requested_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("file.txt");
        write_file_atomically(&path, b"old", 0o644).unwrap();
        write_file_atomically(&path, b"new", 0o600).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // No temporary file is left beside it.
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }
}
