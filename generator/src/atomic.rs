//! Writing so that a reader sees either the old contents or the new, never half. One file: a
//! temporary file in the same directory (so the rename stays on one filesystem), synced, then
//! renamed over the destination (the key cache, the committed corpus, the reports). A whole
//! directory ([`replace_dir`]): filled beside its destination, then renamed into place (a
//! generated PKI, a trust bundle).

use std::io::Write;
use std::path::{Path, PathBuf};

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

/// Makes `out_dir` hold exactly what `fill` writes into the empty directory it is given: that
/// directory is made beside `out_dir` (one filesystem), given `mode`, and renamed into place; an
/// existing `out_dir` (a directory, or a symbolic link, which is replaced and never followed) is
/// moved aside first and removed after, or put back if the rename fails. So `out_dir` appears
/// whole or not at all, and nothing of an earlier output stays in it. `io_error` names the path
/// of a failed step.
pub fn replace_dir<E>(
    out_dir: &Path,
    mode: u32,
    io_error: impl Fn(&Path, std::io::Error) -> E,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    let parent = match out_dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| io_error(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".anchorsmith-out-")
        .tempdir_in(&parent)
        .map_err(|e| io_error(&parent, e))?;
    fill(staging.path())?;
    fs::set_permissions(staging.path(), fs::Permissions::from_mode(mode))
        .map_err(|e| io_error(staging.path(), e))?;
    if out_dir.symlink_metadata().is_ok() {
        // Move the old directory aside first: rename cannot replace a non-empty directory.
        let retired = tempfile::Builder::new()
            .prefix(".anchorsmith-old-")
            .tempdir_in(&parent)
            .map_err(|e| io_error(&parent, e))?;
        let retired_path = retired.path().join("old");
        fs::rename(out_dir, &retired_path).map_err(|e| io_error(out_dir, e))?;
        if let Err(source) = fs::rename(staging.path(), out_dir) {
            // Put the previous output back rather than leave nothing.
            let _ = fs::rename(&retired_path, out_dir);
            return Err(io_error(out_dir, source));
        }
        let _ = staging.keep();
        drop(retired); // removes the old output (a link itself, never its target)
    } else {
        fs::rename(staging.path(), out_dir).map_err(|e| io_error(out_dir, e))?;
        let _ = staging.keep();
    }
    Ok(())
}
