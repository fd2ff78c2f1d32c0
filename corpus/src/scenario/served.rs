//! The `[served.<chain>]` and `[acme_chains.<issuer>]` tables of a scenario: checked (every failure a
//! [`Diagnostic`] at the offending value) and turned into chains by [`crate::serving`].

use std::collections::BTreeMap;
use std::ops::Range;

use anchorsmith_diagnostics::{line_column, Code, Diagnostic, SourceFile};
use anchorsmith_generator::Topology;
use toml::Spanned;

use super::{check_cert_id, check_name, check_quote, check_seed_file, plain_ids};
use crate::seeds::Seeds;
use crate::serving::{assemble, AcmeChains, ServedBy, Server, ServerSoftware};
use crate::spec::{ScenarioFile, ServedSpec};

/// Checks `[acme_chains.<issuer>]` and every `[served.<chain>]` table, assembles each served chain and
/// adds it to `chains`: one namespace, so a name in both tables is a duplicate.
pub(super) fn resolve_served(
    source: &SourceFile<'_>,
    topology: &Topology,
    seeds: &Seeds,
    file: &ScenarioFile,
    chains: &mut BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, ServedBy>, Diagnostic> {
    let mut acme = BTreeMap::new();
    for (issuer, spec) in &file.acme_chains {
        check_cert_id(
            source,
            topology,
            issuer,
            &format!("acme_chains.{}", issuer.get_ref()),
        )?;
        let mut lists = vec![("default", &spec.default)];
        lists.extend(spec.alternate.as_ref().map(|ids| ("alternate", ids)));
        for (list, ids) in lists {
            for (index, id) in ids.get_ref().iter().enumerate() {
                let field = format!("acme_chains.{}.{list}[{index}]", issuer.get_ref());
                check_cert_id(source, topology, id, &field)?;
            }
        }
        let offered = AcmeChains {
            default: plain_ids(&spec.default),
            alternate: spec.alternate.as_ref().map(plain_ids),
        };
        acme.insert(issuer.get_ref().clone(), offered);
    }
    let mut served = BTreeMap::new();
    for (name, spec) in &file.served {
        check_name(source, "served", name)?;
        let field = |key: &str| format!("served.{}.{key}", name.get_ref());
        if let Some((first, _)) = file.chains.get_key_value(name.get_ref().as_str()) {
            let (first_line, _) = line_column(source.text, first.span().start);
            return Err(source.error(
                Code::Duplicate,
                name.span(),
                format!("served.{}", name.get_ref()),
                format!(
                    "chain {:?} is also declared in [chains] (line {first_line}): one name, one chain",
                    name.get_ref()
                ),
            ));
        }
        check_cert_id(source, topology, &spec.leaf, &field("leaf"))?;
        let server = server_of(source, topology, &acme, name, spec)?;
        let seed_file = spec.seed_file.as_ref().unwrap_or(&file.scenario.seed_file);
        check_seed_file(source, seeds, seed_file, &field("seed_file"))?;
        check_quote(source, seeds, seed_file, &spec.quote, &field("quote"))?;
        chains.insert(
            name.get_ref().clone(),
            assemble(topology, spec.leaf.get_ref(), &server),
        );
        served.insert(
            name.get_ref().clone(),
            ServedBy {
                leaf: spec.leaf.get_ref().clone(),
                server,
                strength: spec.strength,
                seed_file: seed_file.get_ref().clone(),
                quote: crate::seeds::normalise_whitespace(spec.quote.get_ref()),
            },
        );
    }
    Ok(served)
}

/// The [`Server`] a `[served.<chain>]` table declares: the fields its software reads, present,
/// and no field another software reads.
fn server_of(
    source: &SourceFile<'_>,
    topology: &Topology,
    acme: &BTreeMap<String, AcmeChains>,
    name: &Spanned<String>,
    spec: &ServedSpec,
) -> Result<Server, Diagnostic> {
    let field = |key: &str| format!("served.{}.{key}", name.get_ref());
    let software = spec.software;
    let not_read = |span: Range<usize>, key: &str, reader: ServerSoftware| {
        source.error(
            Code::InvalidValue,
            span,
            field(key),
            format!("software \"{software}\" does not read {key}; only \"{reader}\" does"),
        )
    };
    if software != ServerSoftware::Iis {
        if let Some(store) = &spec.intermediate_store {
            return Err(not_read(
                store.span(),
                "intermediate_store",
                ServerSoftware::Iis,
            ));
        }
    }
    if software != ServerSoftware::CertbotFullchain {
        if let Some(preferred) = &spec.preferred_chain {
            return Err(not_read(
                preferred.span(),
                "preferred_chain",
                ServerSoftware::CertbotFullchain,
            ));
        }
    }
    Ok(match software {
        ServerSoftware::ApacheCertOnly => Server::ApacheCertOnly,
        ServerSoftware::Iis => {
            let Some(store) = &spec.intermediate_store else {
                return Err(source.error(
                    Code::InvalidValue,
                    name.span(),
                    field("intermediate_store"),
                    "software \"iis\" needs intermediate_store: the certificates IIS chooses from, in order",
                ));
            };
            for (index, id) in store.get_ref().iter().enumerate() {
                check_cert_id(
                    source,
                    topology,
                    id,
                    &field(&format!("intermediate_store[{index}]")),
                )?;
            }
            Server::Iis {
                intermediate_store: plain_ids(store),
            }
        }
        ServerSoftware::CertbotFullchain => {
            // The CA offers chains for the certificate that issued the leaf.
            let issuer = topology
                .cert(spec.leaf.get_ref())
                .map(|leaf| leaf.issuer_id.as_str())
                .unwrap_or_default();
            let Some(offered_for_issuer) = acme.get(issuer) else {
                return Err(source
                    .error(
                        Code::InvalidValue,
                        spec.leaf.span(),
                        field("leaf"),
                        format!(
                            "software \"certbot-fullchain\" needs [acme_chains.{issuer}]: the chains the CA offers with a leaf {issuer} issued"
                        ),
                    )
                    .help(known_issuers(acme)));
            };
            let preferred = spec
                .preferred_chain
                .as_ref()
                .map(|preferred| *preferred.get_ref())
                .unwrap_or_default();
            let Some(offered) = offered_for_issuer.get(preferred) else {
                let span = spec
                    .preferred_chain
                    .as_ref()
                    .map_or(name.span(), Spanned::span);
                return Err(source.error(
                    Code::InvalidValue,
                    span,
                    field("preferred_chain"),
                    format!("[acme_chains.{issuer}] offers no alternate chain"),
                ));
            };
            Server::CertbotFullchain {
                preferred,
                offered: offered.to_vec(),
            }
        }
    })
}

/// `[acme_chains]` declares chains for: the issuers it names.
fn known_issuers(acme: &BTreeMap<String, AcmeChains>) -> String {
    if acme.is_empty() {
        return "no [acme_chains.<issuer>] table is declared".into();
    }
    let issuers: Vec<&str> = acme.keys().map(String::as_str).collect();
    format!("[acme_chains] declares: {}", issuers.join(", "))
}
