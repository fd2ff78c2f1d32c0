//! What a TLS client connecting to a server cannot be told, in one place for every handshake
//! client (the same rules as the node-legacy harness's `skip_reason`). A case asking for any of
//! these is skipped with the reason: answering it would misstate the case.

use crate::harnesses::manifest::ScenarioLimit;
use crate::{PeerName, Usage, ValidationInput};

/// The peer names a client can check: every client checks a DNS name; some can also check an IP
/// address, and one (openssl s_client) can connect without checking a name at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameSupport {
    pub ip_address: bool,
    pub no_name: bool,
}

/// The name the client connects to and checks, as it will be given on its command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Dns(String),
    Ip(std::net::IpAddr),
    /// No name to check (only for a client with [`NameSupport::no_name`]).
    Unchecked,
}

impl Host {
    /// The name as a client's command line takes it (`localhost` when none is checked).
    pub fn text(&self) -> String {
        match self {
            Host::Dns(name) => name.clone(),
            Host::Ip(address) => address.to_string(),
            Host::Unchecked => "localhost".into(),
        }
    }
}

/// Why `input` cannot be run as a TLS handshake by a client with `names`, or the host to use.
pub fn host_or_skip(input: &ValidationInput, names: NameSupport) -> Result<Host, String> {
    if input.usage == Usage::ClientAuth {
        return Err("CLIENT validation: a TLS client verifies a server".into());
    }
    if input.max_chain_depth.is_some() {
        return Err("max_chain_depth: a TLS client has no depth limit option".into());
    }
    if !input.key_usage.is_empty() {
        return Err("key_usage: a TLS client cannot be told to require key usages".into());
    }
    if !input.signature_algorithms.is_empty() {
        return Err(
            "signature_algorithms: a TLS client cannot restrict certificate signature algorithms"
                .into(),
        );
    }
    if !input.crls.is_empty() {
        return Err("crls: the handshake clients are run without CRLs".into());
    }
    if input
        .extended_key_usage
        .iter()
        .any(|eku| eku != "serverAuth")
    {
        return Err(
            "extended_key_usage: a TLS client always checks serverAuth, nothing else".into(),
        );
    }
    if input
        .features
        .iter()
        .any(|feature| feature == crate::limbo::FEATURE_MULTIPLE_PEER_NAMES)
    {
        return Err("expected_peer_names: a TLS client checks one server name".into());
    }
    if !input.cached.is_empty() {
        // The API columns offer a cache's certificates to their path builders; a client process
        // starts with no cache, and none of these clients can be handed one.
        return Err(format!(
            "cached intermediates ({}): a fresh TLS client process has no intermediate cache to \
             give them to",
            input.cached.len()
        ));
    }
    if input.peer_key_pem.is_none() {
        return Err(
            "no peer key: a TLS server cannot present the chain without the peer's private key"
                .into(),
        );
    }
    match &input.expected_peer_name {
        Some(PeerName::Dns(name)) => Ok(Host::Dns(name.clone())),
        Some(PeerName::Ip(address)) if names.ip_address => Ok(Host::Ip(*address)),
        Some(PeerName::Ip(_)) => {
            Err("expected_peer_name of kind IP: this client checks DNS names only here".into())
        }
        Some(PeerName::Rfc822(_)) => Err(
            "expected_peer_name of kind RFC822: a TLS client checks DNS names and IP addresses"
                .into(),
        ),
        None if names.no_name => Ok(Host::Unchecked),
        None => Err("no expected_peer_name: this client always checks the server's name".into()),
    }
}

/// Why a case is outside the scenarios a column is limited to (`only_scenarios` in its
/// `harness.toml`), or `None`. A case id without a `scenario::` prefix (a test's own case) is
/// run.
pub fn outside_scenarios(input: &ValidationInput, limit: &ScenarioLimit) -> Option<String> {
    let (scenario, _) = input.id.split_once("::")?;
    (!limit.scenarios.iter().any(|name| name == scenario))
        .then(|| format!("{} ({})", limit.why, limit.scenarios.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY_NAME: NameSupport = NameSupport {
        ip_address: true,
        no_name: true,
    };
    const DNS_ONLY: NameSupport = NameSupport {
        ip_address: false,
        no_name: false,
    };

    fn case() -> ValidationInput {
        ValidationInput {
            expected_peer_name: Some(PeerName::Dns("example.com".into())),
            peer_key_pem: Some("key".into()),
            extended_key_usage: vec!["serverAuth".into()],
            ..ValidationInput::default()
        }
    }

    #[test]
    fn a_plain_server_case_runs() {
        assert_eq!(
            host_or_skip(&case(), DNS_ONLY),
            Ok(Host::Dns("example.com".into()))
        );
    }

    #[test]
    fn every_constraint_a_client_cannot_be_told_is_skipped() {
        let cases = [
            ValidationInput {
                usage: Usage::ClientAuth,
                ..case()
            },
            ValidationInput {
                max_chain_depth: Some(2),
                ..case()
            },
            ValidationInput {
                key_usage: vec!["digitalSignature".into()],
                ..case()
            },
            ValidationInput {
                signature_algorithms: vec!["RSA_PKCS1_SHA256".into()],
                ..case()
            },
            ValidationInput {
                crls: vec![vec![0]],
                ..case()
            },
            ValidationInput {
                extended_key_usage: vec!["clientAuth".into()],
                ..case()
            },
            ValidationInput {
                peer_key_pem: None,
                ..case()
            },
            ValidationInput {
                cached: vec![vec![0]],
                ..case()
            },
            ValidationInput {
                expected_peer_name: Some(PeerName::Rfc822("a@example.com".into())),
                ..case()
            },
        ];
        for input in cases {
            assert!(host_or_skip(&input, EVERY_NAME).is_err(), "{input:?}");
        }
    }

    #[test]
    fn a_limited_column_runs_its_scenarios_and_a_tests_own_cases() {
        let with_id = |id: &str| ValidationInput {
            id: id.into(),
            ..case()
        };
        let limit = ScenarioLimit {
            scenarios: vec!["leaf-only-served".into(), "same-key-intermediates".into()],
            why: "cost: slow".into(),
        };
        let outside = |input: &ValidationInput| outside_scenarios(input, &limit);
        assert_eq!(
            outside(&with_id("leaf-only-served::leaf-only::s::at-x")),
            None
        );
        assert_eq!(outside(&with_id("same-key-intermediates::a::b")), None);
        assert_eq!(outside(&with_id("good")), None);
        let reason = outside(&with_id("root-expiry-long-short::long-chain::s::at-x")).unwrap();
        assert_eq!(
            reason,
            "cost: slow (leaf-only-served, same-key-intermediates)"
        );
    }

    #[test]
    fn name_kinds_follow_the_client() {
        let ip = ValidationInput {
            expected_peer_name: Some(PeerName::Ip("192.0.2.1".parse().unwrap())),
            ..case()
        };
        assert!(host_or_skip(&ip, DNS_ONLY).is_err());
        assert_eq!(
            host_or_skip(&ip, EVERY_NAME),
            Ok(Host::Ip("192.0.2.1".parse().unwrap()))
        );
        let unnamed = ValidationInput {
            expected_peer_name: None,
            ..case()
        };
        assert!(host_or_skip(&unnamed, DNS_ONLY).is_err());
        assert_eq!(host_or_skip(&unnamed, EVERY_NAME), Ok(Host::Unchecked));
    }
}
