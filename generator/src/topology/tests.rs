//! Tests of topology validation: every kind of bad input is a diagnostic that names the file,
//! line, column, field and kind, and shows the source line with a caret under the fault.

use anchorsmith_diagnostics::{Code, Diagnostic};

use super::*;
use crate::fixtures::SMALL_PKI as VALID;

const ORIGIN: &str = "corpus/x.toml";

fn parse(source: &str) -> Result<Topology, Diagnostic> {
    parse_topology(source, Path::new(ORIGIN))
}

/// The diagnostic for `source`, checked to render the file, line and column, the field, and
/// the offending source line with the caret starting under the reported column.
fn invalid(source: &str) -> Diagnostic {
    let error = parse(source).expect_err("topology should be rejected");
    assert_eq!(error.file, Path::new(ORIGIN));
    let rendered = error.to_string();
    let code: &str = error.code.into();
    assert!(
        rendered.starts_with(&format!("error[{code}]: {}", error.title())),
        "{rendered}"
    );
    if let Some(field) = &error.field {
        assert!(error.title().starts_with(&format!("field `{field}`: ")));
    }
    assert!(
        rendered.contains(&format!("--> {ORIGIN}:{}:{}", error.line, error.column)),
        "{rendered}"
    );
    let source_line = source.lines().nth(error.line - 1).expect("line in source");
    let lines: Vec<&str> = rendered.lines().collect();
    let shown = lines
        .iter()
        .position(|line| line.ends_with(&format!("{} | {source_line}", error.line)))
        .unwrap_or_else(|| panic!("source line {source_line:?} not shown:\n{rendered}"));
    let marker = lines[shown + 1];
    let text_start = marker.find('|').expect("gutter") + 2;
    let caret = marker
        .find(['^', '_'])
        .unwrap_or_else(|| panic!("no caret:\n{rendered}"));
    assert_eq!(
        marker[text_start..caret].chars().count() + 1,
        error.column,
        "caret under the reported column:\n{rendered}"
    );
    error
}

/// `VALID` with one substring replaced (which must occur exactly once).
fn valid_with(from: &str, to: &str) -> String {
    assert_eq!(
        VALID.matches(from).count(),
        1,
        "{from:?} must occur once in VALID"
    );
    VALID.replace(from, to)
}

/// 1-based line and column of the first occurrence of `needle` in `source`.
fn position_of(source: &str, needle: &str) -> (usize, usize) {
    anchorsmith_diagnostics::line_column(source, source.find(needle).expect("needle present"))
}

/// The code, position, field and message of a diagnostic, for one `assert_eq!`.
fn summary(error: &Diagnostic) -> (Code, (usize, usize), Option<&str>) {
    (
        error.code,
        (error.line, error.column),
        error.field.as_deref(),
    )
}

#[test]
fn valid_topology_resolves_everything() {
    let topology = parse(VALID).unwrap();
    assert_eq!(topology.seed(), "anchorsmith-test");
    assert_eq!(
        topology.cert_ids().collect::<Vec<_>>(),
        ["root", "int", "leaf"]
    );
    let root = topology.cert("root").unwrap();
    assert!(root.self_signed && root.is_ca());
    assert_eq!(root.issuer_id, "root");
    assert_eq!(root.path_len(), Some(1));
    assert_eq!(
        root.subject_dn(),
        "CN=Root (test),O=anchorsmith test PKI,C=US"
    );
    assert_eq!(root.signature_algorithm, SignatureAlgorithm::EcdsaSha256);
    // Defaults: basicConstraints and keyUsage critical on a CA.
    assert!(root.extensions.basic_constraints.as_ref().unwrap().critical);
    assert!(root.extensions.key_usage.as_ref().unwrap().critical);
    let int = topology.cert("int").unwrap();
    assert_eq!(int.subject_dn(), "CN=Int (test),O=anchorsmith test PKI");
    assert_eq!((int.issuer_id.as_str(), int.self_signed), ("root", false));
    let leaf = topology.cert("leaf").unwrap();
    assert_eq!(leaf.issuer_id, "int");
    assert!(!leaf.self_signed && !leaf.is_ca());
    assert!(!leaf.extensions.basic_constraints.as_ref().unwrap().critical);
    assert_eq!(leaf.san_dns(), ["www.example.test"]);
    assert_eq!(leaf.san_ip().len(), 2);
    assert_eq!(
        leaf.ext_key_usages(),
        Some(&[ExtendedKeyUsage::ServerAuth][..])
    );
    assert_eq!(leaf.serial, vec![0x0a]);
    assert_eq!(leaf.not_after - leaf.not_before, time::Duration::days(90));
    assert_eq!(leaf.signature_algorithm, SignatureAlgorithm::EcdsaSha256);
    assert_eq!(
        topology.resolve_instant("expiry + 1d").unwrap(),
        time::macros::datetime!(2021-10-01 14:01:15 UTC)
    );
}

#[test]
fn a_self_signed_certificate_omits_its_aki_unless_the_topology_asks() {
    let topology = parse(VALID).unwrap();
    let aki = |topology: &Topology, id: &str| {
        topology
            .cert(id)
            .unwrap()
            .extensions
            .authority_key_identifier
            .clone()
    };
    // Real roots carry none; issued certificates keep the derived one.
    assert_eq!(aki(&topology, "root"), KeyIdentifier::Omit);
    assert_eq!(aki(&topology, "int"), KeyIdentifier::Derived);
    assert_eq!(aki(&topology, "leaf"), KeyIdentifier::Derived);
    let root_extensions = "basic_constraints = { ca = true, path_len = 1 }\n";
    let asked = parse(&valid_with(
        root_extensions,
        &format!("{root_extensions}authority_key_identifier = \"derived\"\n"),
    ))
    .unwrap();
    assert_eq!(aki(&asked, "root"), KeyIdentifier::Derived);
    let explicit = parse(&valid_with(
        root_extensions,
        &format!("{root_extensions}authority_key_identifier = \"0a0b\"\n"),
    ))
    .unwrap();
    assert_eq!(
        aki(&explicit, "root"),
        KeyIdentifier::Explicit(vec![0x0a, 0x0b])
    );
}

#[test]
fn enum_names_are_the_file_spellings() {
    // One spelling per value: strum's, which serde reads too.
    let names: Vec<&str> = [
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa4096,
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::Ed25519,
    ]
    .into_iter()
    .map(<&str>::from)
    .collect();
    assert_eq!(
        names,
        [
            "rsa-2048",
            "rsa-4096",
            "ecdsa-p256",
            "ecdsa-p384",
            "ed25519"
        ]
    );
    assert_eq!(ExtendedKeyUsage::OcspSigning.to_string(), "ocsp-signing");
    assert_eq!(KeyUsage::CrlSign.to_string(), "crl-sign");
    assert_eq!(SignatureHash::Sha384.to_string(), "sha384");
    let topology = parse(&valid_with("leaf = \"ed25519\"", "leaf = \"rsa-4096\"")).unwrap();
    assert_eq!(topology.keys()["leaf"], KeyAlgorithm::Rsa4096);
}

#[test]
fn malformed_toml() {
    let source = valid_with("serial = \"0a\"", "serial = \"0a");
    let error = invalid(&source);
    assert_eq!(error.code, Code::Syntax);
    assert_eq!(error.line, position_of(&source, "serial = \"0a").0);
    assert!(!error.message.is_empty());
}

#[test]
fn unknown_field() {
    let source = valid_with("serial = \"0a\"", "serial = \"0a\"\nserail = \"0b\"");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::Shape,
            position_of(&source, "serail"),
            Some("cert[2].serail")
        )
    );
    assert!(
        error.message.contains("unknown field `serail`"),
        "{}",
        error.message
    );
}

#[test]
fn unknown_field_inside_inline_table() {
    let source = valid_with(
        "basic_constraints = { ca = false }",
        "basic_constraints = { ca = false, pathlen = 0 }",
    );
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::Shape,
            position_of(&source, "pathlen"),
            Some("cert[2].extensions.basic_constraints.pathlen")
        )
    );
    assert!(error.message.contains("unknown field `pathlen`"));
}

#[test]
fn missing_required_field() {
    let source = valid_with("serial = \"0a\"\n", "");
    let error = invalid(&source);
    assert_eq!(error.code, Code::Shape);
    assert_eq!(error.field.as_deref(), Some("cert[2]"));
    assert!(
        error.message.contains("missing field `serial`"),
        "{}",
        error.message
    );
}

#[test]
fn unknown_key_label() {
    let source = valid_with("key = \"leaf\"", "key = \"leaf9\"");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::UnknownName,
            position_of(&source, "\"leaf9\""),
            Some("cert[2].key")
        )
    );
    assert_eq!(
        error.message,
        "unknown key label \"leaf9\" (known: int, leaf, root, rsa-root)"
    );
}

#[test]
fn unknown_issuer() {
    let source = valid_with("issuer = \"int\"", "issuer = \"r9\"");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::UnknownName,
            position_of(&source, "\"r9\""),
            Some("cert[2].issuer")
        )
    );
    assert_eq!(error.message, "unknown issuer \"r9\" (known: root, int)");
}

#[test]
fn id_colliding_with_a_key_file() {
    let source = valid_with("id = \"leaf\"", "id = \"root.key\"");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::InvalidValue,
            position_of(&source, "\"root.key\""),
            Some("cert[2].id")
        )
    );
    assert!(error.message.contains("would collide with a key file"));
}

#[test]
fn reserved_and_malformed_ids() {
    let error = invalid(&valid_with("id = \"leaf\"", "id = \"self\""));
    assert_eq!(error.code, Code::InvalidValue);
    assert!(error.message.contains("reserved"), "{}", error.message);
    let error = invalid(&valid_with("id = \"leaf\"", "id = \"le af\""));
    assert_eq!(error.field.as_deref(), Some("cert[2].id"));
    assert!(
        error.message.contains("[A-Za-z0-9._-]+"),
        "{}",
        error.message
    );
}

#[test]
fn duplicate_id() {
    let source = valid_with("id = \"leaf\"", "id = \"root\"");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::Duplicate,
            position_of(&source, "\"root\"\nsubject = { cn = \"www"),
            Some("cert[2].id")
        )
    );
    assert_eq!(
        error.message,
        "duplicate id \"root\" (first declared by cert[0])"
    );
}

#[test]
fn issuer_that_is_not_a_ca() {
    let source = valid_with("issuer = \"root\"", "issuer = \"leaf\"");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::InvalidValue,
            position_of(&source, "\"leaf\"\nnot_before"),
            Some("cert[1].issuer")
        )
    );
    assert!(
        error.message.contains("issuer \"leaf\" is not a CA"),
        "{}",
        error.message
    );
}

#[test]
fn issuer_without_basic_constraints_is_not_a_ca() {
    let source = valid_with("basic_constraints = { ca = true, path_len = 0 }\n", "");
    let error = invalid(&source);
    assert_eq!(error.field.as_deref(), Some("cert[2].issuer"));
    assert!(error.message.contains("is not a CA"), "{}", error.message);
}

#[test]
fn issuance_cycle_without_root() {
    let source = valid_with("issuer = \"self\"", "issuer = \"int\"");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::Cycle,
            position_of(&source, "\"int\"\nnot_before = \"2020-01"),
            Some("cert[0].issuer")
        )
    );
    assert_eq!(
        error.message,
        "issuance cycle with no self-signed root: root → int → root"
    );
}

#[test]
fn not_after_before_not_before() {
    let source = valid_with(
        "not_after = \"expiry + 60d\"",
        "not_after = \"expiry - 31d\"",
    );
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::InvalidValue,
            position_of(&source, "\"expiry - 31d\""),
            Some("cert[2].not_after")
        )
    );
    assert!(
        error.message.contains("is before not_before"),
        "{}",
        error.message
    );
}

#[test]
fn unknown_algorithm() {
    let source = valid_with("leaf = \"ed25519\"", "leaf = \"rsa-1024\"");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::Shape,
            position_of(&source, "\"rsa-1024\""),
            Some("keys.leaf")
        )
    );
    assert_eq!(
        error.message,
        "unknown variant `rsa-1024`, expected one of `rsa-2048`, `rsa-4096`, `ecdsa-p256`, `ecdsa-p384`, `ed25519`"
    );
}

#[test]
fn unknown_hash() {
    let source = valid_with(
        "serial = \"0a\"",
        "serial = \"0a\"\nsignature_hash = \"sha512\"",
    );
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::Shape,
            position_of(&source, "\"sha512\""),
            Some("cert[2].signature_hash")
        )
    );
    assert!(error.message.contains("sha512"), "{}", error.message);
}

#[test]
fn sha1_needs_an_rsa_issuer() {
    let source = valid_with(
        "serial = \"02\"",
        "serial = \"02\"\nsignature_hash = \"sha1\"",
    );
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::InvalidValue,
            position_of(&source, "\"sha1\""),
            Some("cert[1].signature_hash")
        )
    );
    assert_eq!(
        error.message,
        "sha1 needs an RSA issuer key, but the issuer key is ecdsa-p256"
    );
    // With an RSA issuer it is accepted.
    let rsa = source.replace("key = \"root\"", "key = \"rsa-root\"");
    assert_eq!(
        parse(&rsa)
            .unwrap()
            .cert("int")
            .unwrap()
            .signature_algorithm,
        SignatureAlgorithm::RsaSha1
    );
}

#[test]
fn unknown_instant_name() {
    let source = valid_with(
        "not_before = \"expiry - 30d\"",
        "not_before = \"expiri - 30d\"",
    );
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::UnknownName,
            position_of(&source, "\"expiri - 30d\""),
            Some("cert[2].not_before")
        )
    );
    assert!(
        error.message.contains("unknown instant name \"expiri\"")
            && error.message.contains("known: expiry"),
        "{}",
        error.message
    );
    let error = invalid(&valid_with(
        "not_before = \"expiry - 30d\"",
        "not_before = \"expiry - 30x\"",
    ));
    assert_eq!(error.code, Code::InvalidValue);
    let error = invalid(&valid_with(
        "not_before = \"expiry - 30d\"",
        "not_before = 30",
    ));
    assert_eq!(error.code, Code::Shape);
}

#[test]
fn unknown_extension_values() {
    let cases = [
        (
            "usages = [\"key-cert-sign\", \"crl-sign\"]",
            "usages = [\"key-cert-sign\", \"crl-signing\"]",
            "\"crl-signing\"",
            Code::Shape,
            "cert[0].extensions.key_usage.usages[1]",
        ),
        (
            "\"server-auth\"",
            "\"serverAuth\"",
            "\"serverAuth\"",
            Code::Shape,
            "cert[2].extensions.ext_key_usage.usages[0]",
        ),
        (
            "\"::1\"",
            "\"::1::2\"",
            "\"::1::2\"",
            Code::InvalidValue,
            "cert[2].extensions.subject_alt_name.ip",
        ),
        (
            "ext_key_usage",
            "subject_key_identifier = \"derive\"\next_key_usage",
            "\"derive\"",
            Code::InvalidValue,
            "cert[2].extensions.subject_key_identifier",
        ),
        (
            "ext_key_usage",
            "name_constraints = { permitted_ip = [\"10.0.0.0\"] }\next_key_usage",
            "\"10.0.0.0\"",
            Code::InvalidValue,
            "cert[2].extensions.name_constraints.permitted_ip",
        ),
        (
            "ext_key_usage",
            "aia_ca_issuers = \"ftp\"\next_key_usage",
            "\"ftp\"",
            Code::InvalidValue,
            "cert[2].extensions.aia_ca_issuers",
        ),
        (
            "dns = [\"www.example.test\"]",
            "dns = [\"www example\"]",
            "\"www example\"",
            Code::InvalidValue,
            "cert[2].extensions.subject_alt_name.dns",
        ),
    ];
    for (from, to, at, code, field) in cases {
        let source = valid_with(from, to);
        let error = invalid(&source);
        assert_eq!(
            summary(&error),
            (code, position_of(&source, at), Some(field)),
            "{to}"
        );
    }
}

#[test]
fn path_len_needs_a_ca() {
    let source = valid_with(
        "basic_constraints = { ca = false }",
        "basic_constraints = { ca = false, path_len = 0 }",
    );
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::InvalidValue,
            position_of(&source, "0 }\next_key_usage"),
            Some("cert[2].extensions.basic_constraints.path_len")
        )
    );
}

#[test]
fn bad_subjects() {
    let source = valid_with(
        "subject = \"CN=Int (test),O=anchorsmith test PKI\"",
        "subject = \"CN=a,XX=b\"",
    );
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::InvalidValue,
            position_of(&source, "\"CN=a,XX=b\""),
            Some("cert[1].subject")
        )
    );
    assert!(
        error.message.contains("unknown attribute type"),
        "{}",
        error.message
    );
    // An unknown attribute in the table form is refused at its key, by the deserializer.
    let source = valid_with("o = \"anchorsmith test PKI\", c", "org = \"x\", c");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::Shape,
            position_of(&source, "org"),
            Some("cert[0].subject.org")
        )
    );
    assert!(error.message.contains("unknown field `org`"));
    // A bad value is refused at that value.
    let source = valid_with("c = \"US\"", "c = \"USA\"");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::InvalidValue,
            position_of(&source, "\"USA\""),
            Some("cert[0].subject.c")
        )
    );
    let error = invalid(&valid_with("c = \"US\"", "c = 1"));
    assert_eq!(error.code, Code::Shape);
    let error = invalid(&valid_with(
        "subject = \"CN=Int (test),O=anchorsmith test PKI\"",
        "subject = 7",
    ));
    assert_eq!(
        (error.code, error.field.as_deref()),
        (Code::Shape, Some("cert[1].subject"))
    );
}

#[test]
fn bad_serials() {
    let source = valid_with("serial = \"0a\"", "serial = \"xyz\"");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::InvalidValue,
            position_of(&source, "\"xyz\""),
            Some("cert[2].serial")
        )
    );
    assert!(error.message.contains("not a hex string"));
    let error = invalid(&valid_with(
        "serial = \"0a\"",
        &format!("serial = \"{}\"", "ab".repeat(21)),
    ));
    assert!(error.message.contains("20 octets"), "{}", error.message);
}

#[test]
fn bad_instant_declarations() {
    let source = valid_with(
        "expiry = 2021-09-30T14:01:15Z",
        "expiry = 2021-09-30T14:01:15",
    );
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::InvalidValue,
            position_of(&source, "2021-09-30T14:01:15\n"),
            Some("instants.expiry")
        )
    );
    let source = valid_with("expiry = 2021", "\"exp iry\" = 2021");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::InvalidValue,
            position_of(&source, "\"exp iry\""),
            Some("instants.exp iry")
        )
    );
    let error = invalid(&valid_with("expiry = 2021-09-30T14:01:15Z", "expiry = 5"));
    assert_eq!(error.code, Code::Shape);
}

#[test]
fn empty_seed() {
    let source = valid_with("seed = \"anchorsmith-test\"", "seed = \"\"");
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::InvalidValue,
            position_of(&source, "\"\""),
            Some("seed")
        )
    );
}

#[test]
fn ed25519_issuer_takes_no_hash() {
    let source = format!(
        "{VALID}\n[[cert]]\nid = \"ed-root\"\nsubject = \"CN=e\"\nkey = \"leaf\"\nissuer = \"self\"\n\
         not_before = \"expiry\"\nnot_after = \"expiry + 1d\"\nserial = \"0c\"\nsignature_hash = \"sha256\"\n"
    );
    let error = invalid(&source);
    assert_eq!(
        summary(&error),
        (
            Code::InvalidValue,
            position_of(&source, "\"sha256\""),
            Some("cert[3].signature_hash")
        )
    );
    assert!(error.message.contains("ed25519"), "{}", error.message);
}

#[test]
fn unreadable_file_names_the_file() {
    let error = load_topology(Path::new("/nonexistent/anchorsmith.toml")).unwrap_err();
    assert!(matches!(error, TopologyError::Read { .. }));
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/anchorsmith.toml: cannot read topology"),
        "{error}"
    );
}

#[test]
fn load_errors_carry_the_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, valid_with("issuer = \"int\"", "issuer = \"r9\"")).unwrap();
    let TopologyError::Invalid(diagnostic) = load_topology(&path).unwrap_err() else {
        panic!("expected a diagnostic");
    };
    assert_eq!(diagnostic.file, path);
    assert_eq!(diagnostic.code, Code::UnknownName);
}
