//! `cargo xtask bundle`: the trust-bundle builder (issue 11). Loads the endpoints and the
//! candidates (bad input: a located diagnostic, exit 2), builds with `anchorsmith_bundle`, and
//! proves the bundle as a whole with the device verifier (the real BearSSL and mbedTLS through
//! their harnesses under target/harnesses), and writes `bundle.pem`,
//! `manifest.json`, `report.md`, `report.html` (and with `--diff OLD_MANIFEST`, `diff.md`) as
//! the whole of `--out`, replaced at once: an error writes nothing, and no file of an earlier run
//! or of anything else stays beside the bundle. So `--out` must be new, empty or a previous
//! bundle (its `manifest.json`): a directory holding other files (a generated PKI and its
//! private keys) is refused before anything is built.

use anchorsmith_bundle::build::{build, parse_instant, Request, DIFF_FILE, MANIFEST_FILE};
use anchorsmith_bundle::diff::{self, PreviousManifest};
use anchorsmith_bundle::load::{self, Candidate};
use anchorsmith_bundle::policy::Policy;
use anchorsmith_diagnostics::{parse_json, Code, Diagnostic};

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::Context;

use crate::shared::replace_with_files;
use crate::{BadInput, BundleArgs};

pub fn run(args: BundleArgs) -> anyhow::Result<()> {
    let bad = |message: String| anyhow::Error::new(BadInput(anyhow::anyhow!(message)));
    let mut endpoints = Vec::new();
    for spec in &args.endpoints {
        let (host, path) = load::parse_endpoint_spec(spec).map_err(bad)?;
        endpoints.push(load::load_endpoint(&host, &path).map_err(|d| BadInput(d.into()))?);
    }
    for dir in &args.endpoint_dirs {
        endpoints.extend(load::load_endpoint_dir(dir).map_err(|d| BadInput(d.into()))?);
    }
    if endpoints.is_empty() {
        return Err(bad(
            "no endpoint: give --endpoint HOST=PATH.pem or an --endpoint-dir with PEM files".into(),
        ));
    }
    check_out(&args.out).map_err(bad)?;
    // Read the old manifest first: a bad one is bad input, and nothing is built or written.
    let previous = match &args.diff {
        Some(path) => {
            let source = std::fs::read_to_string(path).map_err(|error| {
                BadInput(
                    Diagnostic::whole_file(Code::Syntax, path, format!("cannot read: {error}"))
                        .into(),
                )
            })?;
            let manifest: PreviousManifest =
                parse_json(path, &source).map_err(|d| BadInput(d.into()))?;
            Some((path.clone(), manifest))
        }
        None => None,
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut sources = Vec::new();
    for dir in &args.candidates {
        let (found, source) = load::load_candidate_dir(dir).map_err(|d| BadInput(d.into()))?;
        candidates.extend(found);
        sources.push(source);
    }
    if args.mozilla {
        let (found, source) = load::mozilla_candidates();
        candidates.extend(found);
        sources.push(source);
    }
    let mut certdata_trust = Vec::new();
    for file in &args.certdata {
        let found =
            anchorsmith_bundle::certdata::load_certdata(file).map_err(|d| BadInput(d.into()))?;
        candidates.extend(found.candidates);
        sources.push(found.source);
        certdata_trust.push(found.trust);
    }
    if args.system_store {
        let (found, source) = load::system_candidates();
        if let load::CandidateSource::System { unreadable, .. } = &source {
            // Not the user's input: say what could not be read, and go on with the rest.
            for error in unreadable {
                eprintln!("warning: system store: {error}");
            }
        }
        candidates.extend(found);
        sources.push(source);
    }
    if candidates.is_empty() {
        return Err(bad(
            "no candidate anchor: give --candidates DIR, --mozilla, --system-store and/or --certdata FILE".into(),
        ));
    }
    let mut policy = Policy {
        trust: certdata_trust,
        ..Policy::default()
    };
    for file in &args.trust_metadata {
        policy
            .trust
            .push(load::load_trust_metadata(file).map_err(|d| BadInput(d.into()))?);
    }
    if !args.key_types.is_empty() {
        policy.keys.supported = Some(args.key_types.iter().copied().collect());
    }
    policy.keys.min_rsa_bits = args.min_rsa_bits;
    // Known cross-signs are CA certificates like candidates, and refused alike (located, exit 2).
    let mut cross_signs: Vec<Candidate> = Vec::new();
    for dir in &args.cross_signs {
        let (found, _) = load::load_candidate_dir(dir).map_err(|d| BadInput(d.into()))?;
        cross_signs.extend(found);
    }
    let now = match &args.now {
        Some(text) => parse_instant(text).map_err(bad)?,
        // To the second, as certificates count time.
        None => time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("zero nanoseconds is valid"),
    };
    let horizon = parse_instant(&args.horizon).map_err(bad)?;
    if horizon < now {
        return Err(bad(format!("--horizon {} is before --now", args.horizon)));
    }
    let request = Request {
        sources,
        min_per_endpoint: args.min_anchors_per_endpoint as usize,
        max_bytes: args.max_bytes,
        policy,
        cross_signs: load::dedup(cross_signs),
        // Where `cargo xtask corpus` sets the harnesses up.
        harness_dir: Some(crate::project_root().join("target").join("harnesses")),
        ..Request::new(
            endpoints,
            load::dedup(candidates),
            args.device_verifier,
            now,
            horizon,
        )
    };
    // An endpoint that nothing covers is a failure of the request, not malformed input: exit 1.
    let bundle = build(request)?;
    let proof = bundle.prove()?;
    let mut files = bundle
        .files(&proof, &args.formats)
        .context("encoding the bundle")?;
    let diff = previous.map(|(path, old)| {
        let changes = diff::diff(&old.endpoints, &bundle.endpoint_coverage());
        diff::markdown(&path.display().to_string(), &changes)
    });
    if let Some(text) = &diff {
        files.push((DIFF_FILE.into(), text.clone().into_bytes()));
    }
    // Again: the build and the proof took a while, and the whole directory is replaced.
    check_out(&args.out).map_err(bad)?;
    replace_with_files(&args.out, &files)?;
    println!(
        "{} anchor(s) ({} selection, lower bound {}) for {} endpoint(s) written to {}; {} lint(s)",
        bundle.selection.chosen.len(),
        bundle.selection.method,
        bundle.selection.lower_bound,
        bundle.request.endpoints.len(),
        args.out.display(),
        bundle.lints.len()
    );
    println!(
        "  proved: {} validations against the whole bundle ({})",
        proof.validations,
        proof.validators.join(", ")
    );
    for skipped in &proof.skipped {
        println!("  not proved here (skipped): {}", skipped.sentence());
    }
    for (severity, sentence) in anchorsmith_bundle::lint::summarized(&bundle.lints) {
        println!("  {severity}: {sentence}");
    }
    if let Some(text) = diff {
        print!("\n{text}");
    }
    Ok(())
}

/// Refuses an `--out` the bundle must not replace, before anything is built: a path naming no
/// directory of its own (`.`, `..`), a symbolic link (the bundle would land elsewhere than
/// named), a file, a mount point or a directory whose parent cannot take the new directory
/// beside it (the bundle is renamed into place), and a directory holding anything but a
/// previous bundle's files (files of the user's, a generated PKI with its private keys: the
/// whole directory is replaced, and a bundle directory never holds a key).
fn check_out(out: &Path) -> Result<(), String> {
    let shown = out.display();
    let absolute = std::path::absolute(out).map_err(|error| format!("--out {shown}: {error}"))?;
    if out.file_name().is_none() || absolute.file_name().is_none() {
        return Err(format!(
            "--out {shown} names no directory of its own: the bundle replaces its whole directory, so name a new one (e.g. {shown}/bundle)"
        ));
    }
    let parent = absolute.parent().unwrap_or(Path::new("/"));
    if parent.is_dir() {
        tempfile::Builder::new()
            .prefix(".anchorsmith-probe-")
            .tempdir_in(parent)
            .map_err(|error| {
                format!(
                    "--out {shown}: its parent {} cannot take the new directory beside it ({error})",
                    parent.display()
                )
            })?;
    }
    let Ok(metadata) = out.symlink_metadata() else {
        return Ok(());
    };
    if metadata.file_type().is_symlink() {
        return Err(format!(
            "--out {shown} is a symbolic link: name the directory itself"
        ));
    }
    if !metadata.is_dir() {
        return Err(format!("--out {shown} is not a directory"));
    }
    let parent_device = std::fs::metadata(parent).map(|m| m.dev());
    if parent_device.is_ok_and(|device| device != metadata.dev()) {
        return Err(format!(
            "--out {shown} is a mount point: the bundle is written beside it and renamed into place, which cannot cross filesystems; name a directory inside it"
        ));
    }
    let entries: Vec<std::fs::DirEntry> = std::fs::read_dir(out)
        .map_err(|error| format!("--out {shown}: {error}"))?
        .filter_map(Result::ok)
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = entries
        .iter()
        .filter(|entry| holds_a_private_key(entry))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    if !keys.is_empty() {
        return Err(format!(
            "--out {shown} holds private keys ({}): a bundle directory never holds a key; name a new or empty directory",
            sorted_head(keys)
        ));
    }
    if !is_bundle_dir(out) {
        let names = entries
            .iter()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        return Err(format!(
            "--out {shown} holds files and no bundle ({}): the bundle replaces its whole directory, so --out must be new, empty or a previous bundle",
            sorted_head(names)
        ));
    }
    let known: Vec<&str> = anchorsmith_bundle::build::directory_entries().collect();
    let mut foreign: Vec<String> = entries
        .iter()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !known.contains(&name.as_str()))
        .collect();
    // The DER format's directory holds only its `.der` files.
    let der = out.join(anchorsmith_bundle::encode::Format::Der.output_name());
    if der.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        for entry in std::fs::read_dir(&der).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.file_type().is_ok_and(|kind| kind.is_file()) || !name.ends_with(".der") {
                foreign.push(format!("der/{name}"));
            }
        }
    }
    if !foreign.is_empty() {
        return Err(format!(
            "--out {shown} holds a previous bundle and other files ({}), which replacing it would delete: move them out, or name another directory",
            sorted_head(foreign)
        ));
    }
    Ok(())
}

/// Up to three names, sorted, for a message.
fn sorted_head(mut names: Vec<String>) -> String {
    names.sort();
    let more = names.len() > 3;
    names.truncate(3);
    names.join(", ") + if more { ", ..." } else { "" }
}

/// Whether `dir` holds a trust bundle: its manifest is a bundle's.
pub(crate) fn is_bundle_dir(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join(MANIFEST_FILE))
        .ok()
        .is_some_and(|text| serde_json::from_str::<PreviousManifest>(&text).is_ok())
}

/// Whether `entry` is a regular file (never followed through a link, never a FIFO that would
/// block the read) holding PEM armour of a private key in its first 64 KiB (any key type:
/// `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`, ...).
fn holds_a_private_key(entry: &std::fs::DirEntry) -> bool {
    use std::io::Read;
    if !entry.file_type().is_ok_and(|kind| kind.is_file()) {
        return false;
    }
    let Ok(file) = std::fs::File::open(entry.path()) else {
        return false;
    };
    let mut head = Vec::new();
    if file.take(64 * 1024).read_to_end(&mut head).is_err() {
        return false;
    }
    head.windows(b"PRIVATE KEY-----".len())
        .any(|window| window == b"PRIVATE KEY-----")
}
