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

/// Makes `out_dir` hold exactly what `fill` writes into the empty directory it is given.
///
/// That directory is made beside `out_dir` (one filesystem), given `mode`, synced (its
/// filesystem, so a power cut cannot leave it renamed but half-written) and renamed into place. An
/// existing `out_dir` (a directory, or a symbolic link, replaced and never followed) is swapped
/// with it in one step (`renameat2(RENAME_EXCHANGE)`; where the filesystem cannot, moved aside
/// first and put back if the rename fails), then removed. So a reader finds the old output or
/// the new one, never a mix, and nothing of an earlier output stays. `io_error` names the path
/// of a failed step; a step that fails after the swap (removing the old output) is an error too,
/// naming where the old output still is.
pub fn replace_dir<E>(
    out_dir: &Path,
    mode: u32,
    io_error: impl Fn(&Path, std::io::Error) -> E,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    if out_dir.file_name().is_none() {
        // `.`, `..`, `/`: renaming it is impossible, and its parent is not beside it.
        return Err(io_error(
            out_dir,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "names no directory of its own to replace",
            ),
        ));
    }
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
    sync_tree(staging.path()).map_err(|e| io_error(staging.path(), e))?;
    if out_dir.symlink_metadata().is_err() {
        fs::rename(staging.path(), out_dir).map_err(|e| io_error(out_dir, e))?;
        let _ = staging.keep();
        return sync_dir(&parent).map_err(|e| io_error(&parent, e));
    }
    // Where the old output is after the swap, and the directory to remove with it.
    let (old, holder) = match exchange(staging.path(), out_dir) {
        // The staging directory's name now holds the old output.
        Ok(()) => (staging.keep(), None),
        Err(_) => {
            // No exchange on this filesystem: move the old output aside, then rename.
            let retired = tempfile::Builder::new()
                .prefix(".anchorsmith-old-")
                .tempdir_in(&parent)
                .map_err(|e| io_error(&parent, e))?;
            let old = retired.path().join("old");
            fs::rename(out_dir, &old).map_err(|e| io_error(out_dir, e))?;
            if let Err(source) = fs::rename(staging.path(), out_dir) {
                // Put the previous output back rather than leave nothing; if even that fails,
                // keep it where it is (dropping `retired` would delete it) and say where.
                if fs::rename(&old, out_dir).is_err() {
                    let kept = retired.keep();
                    return Err(io_error(
                        out_dir,
                        std::io::Error::other(format!(
                            "{source}; the previous output is kept in {}",
                            kept.join("old").display()
                        )),
                    ));
                }
                return Err(io_error(out_dir, source));
            }
            let _ = staging.keep();
            (old, Some(retired))
        }
    };
    sync_dir(&parent).map_err(|e| io_error(&parent, e))?;
    // The old output may be a directory, a link or a file: removed as what it is, never followed.
    let removed = match old.symlink_metadata() {
        Ok(metadata) if metadata.is_dir() => fs::remove_dir_all(&old),
        Ok(_) => fs::remove_file(&old),
        Err(error) => Err(error),
    };
    removed.map_err(|e| {
        io_error(
            &old,
            std::io::Error::other(format!(
                "the new output is in place, but removing the previous one failed: {e}"
            )),
        )
    })?;
    if let Some(holder) = holder {
        let path = holder.path().to_path_buf();
        holder.close().map_err(|e| io_error(&path, e))?;
    }
    Ok(())
}

/// Swaps two paths in one step (Linux `renameat2` with `RENAME_EXCHANGE`).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths, relative to the working directory.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Flushes everything written under `dir` to disk: one `syncfs` of its filesystem (one journal
/// commit, where an fsync per file of a 10,000-certificate PKI cost seconds).
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let directory = std::fs::File::open(dir)?;
    // SAFETY: a valid, open file descriptor.
    if unsafe { libc::syncfs(directory.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
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

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn fill_with<'a>(files: &'a [&'a str]) -> impl FnOnce(&Path) -> std::io::Result<()> + 'a {
        move |dir| {
            files
                .iter()
                .try_for_each(|name| std::fs::write(dir.join(name), name))
        }
    }

    #[test]
    fn a_directory_is_replaced_whole_and_nothing_is_left_beside_it() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let error = |_: &Path, e| e;
        replace_dir(&out, 0o755, error, fill_with(&["a", "b"])).unwrap();
        assert_eq!(names(&out), ["a", "b"]);
        replace_dir(&out, 0o750, error, fill_with(&["c"])).unwrap();
        assert_eq!(names(&out), ["c"], "nothing of the first output stays");
        assert_eq!(
            std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o750
        );
        assert_eq!(names(root.path()), ["out"], "no staging directory left");
    }

    #[test]
    fn a_failing_fill_leaves_the_old_output_and_no_staging() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let error = |_: &Path, e| e;
        replace_dir(&out, 0o755, error, fill_with(&["kept"])).unwrap();
        let failed = replace_dir(&out, 0o755, error, |dir: &Path| {
            std::fs::write(dir.join("half"), "x")?;
            Err(std::io::Error::other("encoder failed"))
        });
        assert!(failed.is_err());
        assert_eq!(names(&out), ["kept"]);
        assert_eq!(names(root.path()), ["out"]);
    }

    #[test]
    fn a_link_as_the_output_is_replaced_never_followed() {
        let root = tempfile::tempdir().unwrap();
        let victim = root.path().join("victim");
        std::fs::create_dir(&victim).unwrap();
        std::fs::write(victim.join("mine"), "mine").unwrap();
        let out = root.path().join("out");
        std::os::unix::fs::symlink(&victim, &out).unwrap();
        replace_dir(&out, 0o755, |_: &Path, e| e, fill_with(&["new"])).unwrap();
        assert!(!out.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(names(&out), ["new"]);
        assert_eq!(names(&victim), ["mine"], "the link's target is untouched");
    }

    #[test]
    fn a_file_as_the_output_is_replaced_by_the_directory() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        std::fs::write(&out, "a file").unwrap();
        replace_dir(&out, 0o755, |_: &Path, e| e, fill_with(&["new"])).unwrap();
        assert_eq!(names(&out), ["new"]);
        assert_eq!(names(root.path()), ["out"]);
    }

    #[test]
    fn a_path_naming_no_directory_of_its_own_is_refused() {
        for out in [".", "..", "/", "a/.."] {
            let refused = replace_dir(Path::new(out), 0o755, |_: &Path, e| e, |_: &Path| Ok(()));
            assert!(refused.is_err(), "{out}");
        }
    }
}
