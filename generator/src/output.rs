//! Writing a generated PKI to disk: `<id>.pem`, `<id>.der`, `manifest.json`, and on request
//! `<id>.key.pem` (mode 0600). The directory is assembled beside its destination and renamed
//! into place ([`crate::atomic::replace_dir`]), so it appears whole or not at all.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::generate::Pki;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{} already exists (pass --force to replace it)", path.display())]
    Exists { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Write `pki` to `out_dir`. Refuses an existing `out_dir` unless `replace_existing`.
pub fn write_output(
    pki: &Pki,
    out_dir: &Path,
    emit_keys: bool,
    replace_existing: bool,
) -> Result<(), OutputError> {
    let exists = out_dir.symlink_metadata().is_ok();
    if exists && !replace_existing {
        return Err(OutputError::Exists {
            path: out_dir.to_path_buf(),
        });
    }
    // Keys inside: keep the directory private; otherwise make it readable.
    let mode = if emit_keys { 0o700 } else { 0o755 };
    crate::atomic::replace_dir(
        out_dir,
        mode,
        |path, source| OutputError::Io {
            path: path.to_path_buf(),
            source,
        },
        |dir| write_files(pki, dir, emit_keys),
    )
}

fn write_files(pki: &Pki, dir: &Path, emit_keys: bool) -> Result<(), OutputError> {
    for cert in &pki.certs {
        write_file(
            &dir.join(format!("{}.pem", cert.id)),
            cert.pem.as_bytes(),
            0o644,
        )?;
        write_file(&dir.join(format!("{}.der", cert.id)), &cert.der, 0o644)?;
        if emit_keys {
            write_file(
                &dir.join(format!("{}.key.pem", cert.id)),
                cert.private_key_pkcs8_pem.as_bytes(),
                0o600,
            )?;
        }
    }
    write_file(
        &dir.join("manifest.json"),
        pki.manifest_json().as_bytes(),
        0o644,
    )
}

/// Create with the final mode from the start, so a key is never readable by others even briefly.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), OutputError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io_error(path))?;
    file.write_all(bytes).map_err(io_error(path))?;
    // The umask may have removed bits from a 0644 file; set the mode explicitly.
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io_error(path))
}
