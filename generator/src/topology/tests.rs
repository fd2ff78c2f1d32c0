//! Tests of topology validation: every kind of bad input names file, line, column and field.

use super::*;

const ORIGIN: &str = "corpus/x.toml";

/// A small valid topology; tests break one thing at a time.
const VALID: &str = r#"seed = "unit"

[instants]
epoch = 2021-01-01T00:00:00Z

[keys]
root = "ecdsa-p256"
rsa-root = "rsa-2048"
leaf = "ed25519"

[[cert]]
id = "root"
subject = { cn = "Root (test)", o = "anchorsmith test PKI", c = "US" }
key = "root"
issuer = "self"
not_before = "epoch - 1y"
not_after = "epoch + 10y"
serial = "01"
[cert.extensions]
basic_constraints = { ca = true, path_len = 1 }
key_usage = { usages = ["key-cert-sign", "crl-sign"] }

[[cert]]
id = "leaf"
subject = "CN=leaf.test"
key = "leaf"
issuer = "root"
not_before = "epoch"
not_after = "epoch + 90d"
serial = "0a"
[cert.extensions]
basic_constraints = { ca = false }
ext_key_usage = { usages = ["server-auth"] }
subject_alt_name = { dns = ["leaf.test"], ip = ["127.0.0.1", "::1"] }
"#;

fn parse(source: &str) -> Result<Topology, TopologyError> {
    parse_topology(source, Path::new(ORIGIN))
}

/// The error for `source`, checked for the `file:line:column: field `x`: message` shape.
fn invalid(source: &str) -> (usize, usize, String, String) {
    let error = parse(source).expect_err("topology should be rejected");
    let display = error.to_string();
    match error {
        TopologyError::Invalid {
            file,
            line,
            column,
            field,
            message,
        } => {
            assert_eq!(file, Path::new(ORIGIN));
            assert_eq!(
                display,
                format!("{ORIGIN}:{line}:{column}: field `{field}`: {message}")
            );
            (line, column, field, message)
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
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
    line_column(source, source.find(needle).expect("needle present"))
}

#[test]
fn valid_topology_resolves_everything() {
    let topology = parse(VALID).unwrap();
    assert_eq!(topology.seed(), "unit");
    assert_eq!(topology.cert_ids().collect::<Vec<_>>(), ["root", "leaf"]);
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
    let leaf = topology.cert("leaf").unwrap();
    assert_eq!(leaf.issuer_id, "root");
    assert!(!leaf.self_signed && !leaf.is_ca());
    assert!(!leaf.extensions.basic_constraints.as_ref().unwrap().critical);
    assert_eq!(leaf.san_dns(), ["leaf.test"]);
    assert_eq!(leaf.san_ip().len(), 2);
    assert_eq!(
        leaf.ext_key_usages(),
        Some(&[ExtendedKeyUsage::ServerAuth][..])
    );
    assert_eq!(leaf.serial, vec![0x0a]);
    assert_eq!(leaf.not_after - leaf.not_before, time::Duration::days(90));
    assert_eq!(
        topology.resolve_instant("epoch + 1d").unwrap(),
        time::macros::datetime!(2021-01-02 0:00 UTC)
    );
}

#[test]
fn malformed_toml() {
    let source = valid_with("serial = \"0a\"", "serial = \"0a");
    let (line, _, field, message) = invalid(&source);
    assert_eq!(line, position_of(&source, "serial = \"0a").0);
    assert_eq!(field, "cert[1].serial");
    assert!(!message.is_empty());
}

#[test]
fn unknown_field() {
    let source = valid_with("serial = \"0a\"", "serial = \"0a\"\nserail = \"0b\"");
    let (line, column, field, message) = invalid(&source);
    assert_eq!((line, column), position_of(&source, "serail"));
    assert_eq!(field, "cert[1].serail");
    assert!(message.contains("unknown field"), "{message}");
}

#[test]
fn unknown_field_inside_inline_table() {
    let source = valid_with(
        "basic_constraints = { ca = false }",
        "basic_constraints = { ca = false, pathlen = 0 }",
    );
    let (line, column, field, _) = invalid(&source);
    assert_eq!((line, column), position_of(&source, "pathlen"));
    assert_eq!(field, "cert[1].extensions.basic_constraints.pathlen");
}

#[test]
fn missing_required_field() {
    let source = valid_with("serial = \"0a\"\n", "");
    let (_, _, field, message) = invalid(&source);
    assert_eq!(field, "cert[1].serial");
    assert!(message.contains("missing field `serial`"), "{message}");
}

#[test]
fn unknown_key_label() {
    let source = valid_with("key = \"leaf\"", "key = \"leaf9\"");
    let (line, column, field, message) = invalid(&source);
    assert_eq!((line, column), position_of(&source, "\"leaf9\""));
    assert_eq!(field, "cert[1].key");
    assert!(
        message.contains("unknown key label \"leaf9\" (known: leaf, root, rsa-root)"),
        "{message}"
    );
}

#[test]
fn unknown_issuer() {
    let source = valid_with("issuer = \"root\"", "issuer = \"r9\"");
    let (line, column, field, message) = invalid(&source);
    assert_eq!((line, column), position_of(&source, "\"r9\""));
    assert_eq!(field, "cert[1].issuer");
    assert_eq!(message, "unknown issuer \"r9\" (known: root)");
}

#[test]
fn id_colliding_with_a_key_file() {
    let source = valid_with("id = \"leaf\"", "id = \"root.key\"");
    let (_, column, field, message) = invalid(&source);
    assert_eq!(column, 6);
    assert_eq!(field, "cert[1].id");
    assert!(
        message.contains("would collide with a key file"),
        "{message}"
    );
}

#[test]
fn duplicate_id() {
    let source = valid_with("id = \"leaf\"", "id = \"root\"");
    let (line, column, field, message) = invalid(&source);
    assert_eq!(
        line,
        position_of(&source, "id = \"root\"\nsubject = \"CN").0
    );
    assert_eq!(column, 6);
    assert_eq!(field, "cert[1].id");
    assert!(
        message.contains("duplicate id \"root\" (first declared by cert[0])"),
        "{message}"
    );
}

#[test]
fn issuer_that_is_not_a_ca() {
    let source = format!(
        "{VALID}\n[[cert]]\nid = \"grandchild\"\nsubject = \"CN=g\"\nkey = \"leaf\"\nissuer = \"leaf\"\n\
         not_before = \"epoch\"\nnot_after = \"epoch + 1d\"\nserial = \"0b\"\n"
    );
    let (line, column, field, message) = invalid(&source);
    assert_eq!((line, column), position_of(&source, "\"leaf\"\nnot_before"));
    assert_eq!(field, "cert[2].issuer");
    assert!(message.contains("issuer \"leaf\" is not a CA"), "{message}");
}

#[test]
fn issuer_without_basic_constraints_is_not_a_ca() {
    let source = valid_with("basic_constraints = { ca = true, path_len = 1 }\n", "");
    let (_, _, field, message) = invalid(&source);
    assert_eq!(field, "cert[1].issuer");
    assert!(message.contains("is not a CA"), "{message}");
}

#[test]
fn issuance_cycle_without_root() {
    let source = valid_with("issuer = \"self\"", "issuer = \"leaf-ca\"")
        .replace(
            "basic_constraints = { ca = false }",
            "basic_constraints = { ca = true }",
        )
        .replace("id = \"leaf\"", "id = \"leaf-ca\"");
    let (line, column, field, message) = invalid(&source);
    assert_eq!(
        (line, column),
        position_of(&source, "\"leaf-ca\"\nnot_before")
    );
    assert_eq!(field, "cert[0].issuer");
    assert!(
        message.contains("issuance cycle with no self-signed root: root → leaf-ca → root"),
        "{message}"
    );
}

#[test]
fn not_after_before_not_before() {
    let source = valid_with("not_after = \"epoch + 90d\"", "not_after = \"epoch - 1s\"");
    let (line, column, field, message) = invalid(&source);
    assert_eq!((line, column), position_of(&source, "\"epoch - 1s\""));
    assert_eq!(field, "cert[1].not_after");
    assert!(message.contains("is before not_before"), "{message}");
}

#[test]
fn unknown_algorithm() {
    let source = valid_with("leaf = \"ed25519\"", "leaf = \"rsa-1024\"");
    let (line, column, field, message) = invalid(&source);
    assert_eq!((line, column), position_of(&source, "\"rsa-1024\""));
    assert_eq!(field, "keys.leaf");
    assert!(
        message.contains("rsa-1024") && message.contains("rsa-2048"),
        "{message}"
    );
}

#[test]
fn unknown_hash() {
    let source = valid_with(
        "serial = \"0a\"",
        "serial = \"0a\"\nsignature_hash = \"sha512\"",
    );
    let (line, column, field, message) = invalid(&source);
    assert_eq!((line, column), position_of(&source, "\"sha512\""));
    assert_eq!(field, "cert[1].signature_hash");
    assert!(message.contains("sha512"), "{message}");
}

#[test]
fn sha1_needs_an_rsa_issuer() {
    let source = valid_with(
        "serial = \"0a\"",
        "serial = \"0a\"\nsignature_hash = \"sha1\"",
    );
    let (line, column, field, message) = invalid(&source);
    assert_eq!((line, column), position_of(&source, "\"sha1\""));
    assert_eq!(field, "cert[1].signature_hash");
    assert_eq!(
        message,
        "sha1 needs an RSA issuer key, but the issuer key is ecdsa-p256"
    );
    // With an RSA issuer it is accepted.
    let rsa = source.replace("key = \"root\"", "key = \"rsa-root\"");
    assert_eq!(
        parse(&rsa)
            .unwrap()
            .cert("leaf")
            .unwrap()
            .signature_algorithm,
        SignatureAlgorithm::RsaSha1
    );
}

#[test]
fn unknown_instant_name() {
    let source = valid_with("not_before = \"epoch\"", "not_before = \"epoc + 1d\"");
    let (line, column, field, message) = invalid(&source);
    assert_eq!((line, column), position_of(&source, "\"epoc + 1d\""));
    assert_eq!(field, "cert[1].not_before");
    assert!(
        message.contains("unknown instant name \"epoc\"") && message.contains("known: epoch"),
        "{message}"
    );
}

#[test]
fn unknown_extension_values() {
    let cases = [
        (
            "\"crl-sign\"",
            "\"crl-signing\"",
            "cert[0].extensions.key_usage.usages",
        ),
        (
            "\"server-auth\"",
            "\"serverAuth\"",
            "cert[1].extensions.ext_key_usage.usages",
        ),
        (
            "\"::1\"",
            "\"::1::2\"",
            "cert[1].extensions.subject_alt_name.ip",
        ),
    ];
    for (from, to, expected_field) in cases {
        let source = valid_with(from, to);
        let (line, column, field, _) = invalid(&source);
        assert_eq!((line, column), position_of(&source, to), "{to}");
        assert_eq!(field, expected_field, "{to}");
    }
    let source = valid_with(
        "ext_key_usage",
        "subject_key_identifier = \"derive\"\next_key_usage",
    );
    let (_, _, field, message) = invalid(&source);
    assert_eq!(field, "cert[1].extensions.subject_key_identifier");
    assert!(
        message.contains("\"derived\", \"omit\" or hex bytes"),
        "{message}"
    );
    let source = valid_with(
        "ext_key_usage",
        "name_constraints = { permitted_ip = [\"10.0.0.0\"] }\next_key_usage",
    );
    let (_, _, field, _) = invalid(&source);
    assert_eq!(field, "cert[1].extensions.name_constraints.permitted_ip");
}

#[test]
fn path_len_needs_a_ca() {
    let source = valid_with(
        "basic_constraints = { ca = false }",
        "basic_constraints = { ca = false, path_len = 0 }",
    );
    let (_, _, field, _) = invalid(&source);
    assert_eq!(field, "cert[1].extensions.basic_constraints.path_len");
}

#[test]
fn bad_subjects_and_serials() {
    let (_, _, field, message) = invalid(&valid_with(
        "subject = \"CN=leaf.test\"",
        "subject = \"CN=a,XX=b\"",
    ));
    assert_eq!(field, "cert[1].subject");
    assert!(message.contains("unknown attribute type"), "{message}");
    let (_, _, field, _) = invalid(&valid_with("o = \"anchorsmith test PKI\"", "org = \"x\""));
    assert_eq!(field, "cert[0].subject.org");
    let (_, _, field, message) = invalid(&valid_with("serial = \"0a\"", "serial = \"xyz\""));
    assert_eq!(field, "cert[1].serial");
    assert!(message.contains("not a hex string"), "{message}");
}

#[test]
fn bad_instant_declaration() {
    let (_, _, field, _) = invalid(&valid_with(
        "epoch = 2021-01-01T00:00:00Z",
        "epoch = 2021-01-01T00:00:00",
    ));
    assert_eq!(field, "instants.epoch");
}

#[test]
fn ed25519_issuer_takes_no_hash() {
    let source = format!(
        "{VALID}\n[[cert]]\nid = \"ed-root\"\nsubject = \"CN=e\"\nkey = \"leaf\"\nissuer = \"self\"\n\
         not_before = \"epoch\"\nnot_after = \"epoch + 1d\"\nserial = \"0c\"\nsignature_hash = \"sha256\"\n"
    );
    let (_, _, field, message) = invalid(&source);
    assert_eq!(field, "cert[2].signature_hash");
    assert!(message.contains("ed25519"), "{message}");
}

#[test]
fn unreadable_file_names_the_file() {
    let error = load_topology(Path::new("/nonexistent/anchorsmith.toml")).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/anchorsmith.toml: cannot read topology"),
        "{error}"
    );
}
