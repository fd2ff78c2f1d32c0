//! Property tests: random well-formed topologies (depth 1–6, cross-signs, shared keys, every
//! optional extension) written as TOML, parsed, generated, then checked from the outside:
//! x509-parser reads every field back as declared, OpenSSL verifies every signature under its
//! issuer's public key, and AKI equals the issuer's SKI wherever both are derived.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anchorsmith_generator::{generate, parse_topology, GenerateOptions};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// Key labels and algorithms; only two RSA-2048 keys, cached once for all cases.
const KEYS: &[(&str, &str)] = &[
    ("p256-a", "ecdsa-p256"),
    ("p256-b", "ecdsa-p256"),
    ("p384-a", "ecdsa-p384"),
    ("ed-a", "ed25519"),
    ("ed-b", "ed25519"),
    ("rsa-a", "rsa-2048"),
    ("rsa-b", "rsa-2048"),
];

fn key_cache() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

struct Chooser(ChaCha20Rng);

impl Chooser {
    fn below(&mut self, n: usize) -> usize {
        (self.0.next_u32() as usize) % n
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

struct CaInfo {
    id: String,
    subject: String,
    key: usize,
}

/// A random valid topology: `depth` levels of CAs under one or two roots, cross-signs of
/// intermediates, and leaves under random CAs.
fn random_topology(depth: usize, seed: u64) -> String {
    let mut choose = Chooser(ChaCha20Rng::seed_from_u64(seed));
    let mut toml = String::from(
        "seed = \"anchorsmith-proptest\"\n\n[instants]\nepoch = 2024-03-01T12:00:00Z\n\n[keys]\n",
    );
    for (label, algorithm) in KEYS {
        writeln!(toml, "{label} = \"{algorithm}\"").unwrap();
    }
    let mut serial = 0x1000u32;
    let mut cas: Vec<CaInfo> = Vec::new();
    let mut levels: Vec<Vec<usize>> = Vec::new();
    let root_count = 1 + choose.below(2);
    levels.push(Vec::new());
    for index in 0..root_count {
        let ca = CaInfo {
            id: format!("root-{index}"),
            subject: format!("CN=Root {index} (test),O=anchorsmith test PKI,C=US"),
            key: choose.below(KEYS.len()),
        };
        write_cert(
            &mut toml,
            &mut choose,
            &ca.id,
            &ca.subject,
            ca.key,
            "self",
            None,
            true,
            &mut serial,
        );
        levels[0].push(cas.len());
        cas.push(ca);
    }
    for level in 1..depth {
        levels.push(Vec::new());
        for index in 0..1 + choose.below(2) {
            let issuer = *choose.pick(&levels[level - 1]);
            let ca = CaInfo {
                id: format!("ca-{level}-{index}"),
                subject: format!("CN=CA {level}.{index} (test),O=anchorsmith test PKI"),
                key: choose.below(KEYS.len()),
            };
            let issuer_id = cas[issuer].id.clone();
            write_cert(
                &mut toml,
                &mut choose,
                &ca.id,
                &ca.subject,
                ca.key,
                &issuer_id,
                Some(KEYS[cas[issuer].key].1),
                true,
                &mut serial,
            );
            // A cross-sign: same subject and key, another issuer from the level above or a root.
            if choose.chance(40) {
                let other = *choose.pick(
                    &levels[level - 1]
                        .iter()
                        .chain(levels[0].iter())
                        .copied()
                        .collect::<Vec<_>>(),
                );
                let other_id = cas[other].id.clone();
                let cross_id = format!("{}-by-{}", ca.id, other_id);
                write_cert(
                    &mut toml,
                    &mut choose,
                    &cross_id,
                    &ca.subject,
                    ca.key,
                    &other_id,
                    Some(KEYS[cas[other].key].1),
                    true,
                    &mut serial,
                );
            }
            levels[level].push(cas.len());
            cas.push(ca);
        }
    }
    for index in 0..1 + choose.below(3) {
        let issuer = choose.below(cas.len());
        let subject = format!("CN=leaf{index}.example.test");
        let issuer_id = cas[issuer].id.clone();
        let key = choose.below(KEYS.len());
        write_cert(
            &mut toml,
            &mut choose,
            &format!("leaf-{index}"),
            &subject,
            key,
            &issuer_id,
            Some(KEYS[cas[issuer].key].1),
            false,
            &mut serial,
        );
    }
    toml
}

#[allow(clippy::too_many_arguments)]
fn write_cert(
    toml: &mut String,
    choose: &mut Chooser,
    id: &str,
    subject: &str,
    key: usize,
    issuer: &str,
    issuer_algorithm: Option<&str>,
    is_ca: bool,
    serial: &mut u32,
) {
    *serial += 1 + choose.below(1000) as u32;
    let issuer_algorithm = issuer_algorithm.unwrap_or(KEYS[key].1);
    writeln!(
        toml,
        "\n[[cert]]\nid = \"{id}\"\nsubject = \"{subject}\"\nkey = \"{}\"\nissuer = \"{issuer}\"",
        KEYS[key].0
    )
    .unwrap();
    writeln!(
        toml,
        "not_before = \"epoch - {}d\"\nnot_after = \"epoch + {}d + {}h\"",
        choose.below(4000),
        choose.below(4000),
        choose.below(24)
    )
    .unwrap();
    writeln!(toml, "serial = \"{:x}\"", serial).unwrap();
    let hashes: &[&str] = match issuer_algorithm {
        "rsa-2048" | "rsa-4096" => &["", "sha256", "sha384", "sha1"],
        "ecdsa-p256" | "ecdsa-p384" => &["", "sha256", "sha384"],
        _ => &[""],
    };
    let hash = choose.pick(hashes);
    if !hash.is_empty() {
        writeln!(toml, "signature_hash = \"{hash}\"").unwrap();
    }
    toml.push_str("[cert.extensions]\n");
    if is_ca {
        let path_len = if choose.chance(50) {
            format!(", path_len = {}", choose.below(4))
        } else {
            String::new()
        };
        writeln!(toml, "basic_constraints = {{ ca = true{path_len} }}").unwrap();
        writeln!(
            toml,
            "key_usage = {{ usages = [\"key-cert-sign\", \"crl-sign\"{}] }}",
            if choose.chance(30) {
                ", \"digital-signature\""
            } else {
                ""
            }
        )
        .unwrap();
        if choose.chance(30) {
            writeln!(toml, "name_constraints = {{ permitted_dns = [\"example.test\"], excluded_ip = [\"10.0.0.0/8\", \"fd00::/8\"], critical = {} }}", choose.chance(80)).unwrap();
        }
    } else {
        if choose.chance(80) {
            writeln!(
                toml,
                "basic_constraints = {{ ca = false, critical = {} }}",
                choose.chance(50)
            )
            .unwrap();
        }
        writeln!(
            toml,
            "key_usage = {{ usages = [\"digital-signature\"{}], critical = true }}",
            if choose.chance(50) {
                ", \"key-encipherment\""
            } else {
                ""
            }
        )
        .unwrap();
        let usages = choose.pick(&[
            "\"server-auth\"",
            "\"server-auth\", \"client-auth\"",
            "\"any\"",
            "\"code-signing\", \"time-stamping\", \"ocsp-signing\", \"email-protection\"",
        ]);
        writeln!(toml, "ext_key_usage = {{ usages = [{usages}] }}").unwrap();
        writeln!(toml, "subject_alt_name = {{ dns = [\"{id}.example.test\"], ip = [\"192.0.2.{}\", \"2001:db8::{}\"] }}", choose.below(255), choose.below(255)).unwrap();
    }
    if choose.chance(15) {
        toml.push_str("subject_key_identifier = \"omit\"\n");
    }
    if choose.chance(15) {
        toml.push_str("authority_key_identifier = \"omit\"\n");
    }
    if choose.chance(40) {
        writeln!(
            toml,
            "aia_ca_issuers = \"http://{issuer}.example.test/ca.der\""
        )
        .unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_topologies_generate_verifiable_certificates(depth in 1usize..=6, seed in any::<u64>()) {
        let source = random_topology(depth, seed);
        let topology = parse_topology(&source, &PathBuf::from("proptest.toml"))
            .unwrap_or_else(|error| panic!("{error}\n{source}"));
        let options = GenerateOptions { seed_override: None, key_cache_dir: Some(key_cache().to_path_buf()) };
        let pki = generate(&topology, &options).unwrap();
        common::assert_pki_matches(&topology, &pki);
        // Generation is a function of the topology: a second run gives the same bytes.
        let again = generate(&topology, &options).unwrap();
        for (first, second) in pki.certs.iter().zip(&again.certs) {
            prop_assert_eq!(&first.der, &second.der);
        }
    }
}
