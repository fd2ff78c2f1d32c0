//! `cargo xtask doctor CHAIN.pem --scenario NAME [--at DATE] [--targets a,b]`: why do some
//! clients fail on the chain a server sends? Offline, for every target the scenario places, at
//! any date: findings about the chain itself (each with a stable code), one verdict per target
//! from the target's own engine (client model or real validator), and the chain to serve, with
//! the trade-off table when no candidate chain of the scenario serves every target.
//!
//! `--json` prints one document instead (schema: `xtask/doctor.schema.json`).
//! Not yet: `--connect`, `--batch`, `cargo xtask bench doctor`, targets without a
//! scenario. Exit status: 0 every judged target accepts, 1 some reject, 2 bad input (no output).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anchorsmith_corpus::{Scenario, Target};
use anchorsmith_diagnostics::{Code, Diagnostic};
use anchorsmith_validators::{Outcome, PeerName, Usage, ValidationInput, Validator, Verdict};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::{project_root, BadInput, DoctorArgs};

/// What is wrong with a served chain, as a stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::Display)]
#[strum(serialize_all = "kebab-case")]
pub enum FindingCode {
    IncompleteChain,
    WrongNameSameKey,
    WrongOrder,
    DuplicateCertificate,
    UnrelatedCertificate,
    RootIncluded,
    CrossSignExpiring,
    LeafExpiring,
}

pub struct Finding {
    pub code: FindingCode,
    pub message: String,
}

/// How close an expiry must be to `--at` to be reported.
const SOON: time::Duration = time::Duration::days(30);

pub fn run(args: DoctorArgs) -> anyhow::Result<()> {
    let chain = read_chain(&args.chain).map_err(|d| BadInput(d.into()))?;
    let at = match &args.at {
        Some(text) => anchorsmith_bundle::build::parse_instant(text)
            .map_err(|error| BadInput(anyhow::anyhow!("--at: {error}")))?,
        None => OffsetDateTime::now_utc(),
    };
    let corpus = crate::corpus::load(&project_root().join("corpus"), Vec::new())?;
    let scenario =
        *crate::timeline::select_scenarios(&corpus, std::slice::from_ref(&args.scenario))?
            .first()
            .expect("one scenario named");
    let targets = crate::timeline::select_targets(&corpus, &args.targets)?;
    let (placed, unplaced): (Vec<&Target>, Vec<&Target>) = targets
        .into_iter()
        .partition(|target| target.scenarios.contains_key(&scenario.name));
    let engines = crate::timeline::engines(&placed, Duration::from_secs(60))?;
    let dns_name = corpus
        .cases
        .iter()
        .find(|case| case.scenario == scenario.name)
        .map(|case| case.dns_name.clone())
        .unwrap_or_default();
    let judge = |chain: &[Vec<u8>]| judge_chain(scenario, &engines, chain, &dns_name, at);

    let findings = findings(scenario, &chain, at);
    let verdicts = judge(&chain);
    let rejecting = verdicts.iter().filter(|v| !v.accepts()).count();
    let options = judge_candidates(scenario, &chain, &judge);
    if args.json {
        let report = json_report(scenario, at, &findings, &verdicts, &unplaced, &options);
        println!("{}", serde_json::to_string_pretty(&report)?);
        if rejecting > 0 {
            std::process::exit(1);
        }
        return Ok(());
    }
    println!(
        "{}: {} finding(s); {} of {} judged target(s) accept at {}",
        args.chain.display(),
        findings.len(),
        verdicts.len() - rejecting,
        verdicts.len(),
        date(at)
    );
    println!("\nFindings:");
    if findings.is_empty() {
        println!("  none");
    }
    for finding in &findings {
        println!("  [{}] {}", finding.code, finding.message);
    }
    println!("\nVerdicts ({} scenario `{}`):", date(at), scenario.name);
    for verdict in &verdicts {
        println!("  {}", verdict.line());
    }
    for target in &unplaced {
        println!(
            "  {}: not judged (not placed in scenario `{}`)",
            target.name, scenario.name
        );
    }
    print_fix(scenario, &verdicts, &options);
    if rejecting > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// The chain file, in the order served: every block a certificate (the bundle's PEM reader),
/// nothing but whitespace after the last one.
fn read_chain(file: &Path) -> Result<Vec<Vec<u8>>, Diagnostic> {
    use anchorsmith_bundle::load::{certificates, read};
    let source = read(file)?;
    let certs = certificates(file, &source)?;
    let end = certs.last().map_or(0, |(_, span)| span.end);
    if let Some(offset) = source[end..].find(|c: char| !c.is_whitespace()) {
        let start = end + offset;
        let stop = source[start..]
            .find('\n')
            .map_or(source.len(), |at| start + at);
        return Err(Diagnostic::at(
            Code::Encoding,
            file,
            &source,
            start..stop,
            "trailing data after the last certificate",
        )
        .help("a chain file holds only PEM certificate blocks"));
    }
    Ok(certs.into_iter().map(|(der, _)| der).collect())
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    X509Certificate::from_der(der)
        .expect("the reader checked every certificate")
        .1
}

fn cn(cert: &X509Certificate) -> String {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map_or_else(|| cert.subject().to_string(), str::to_string)
}

fn signed_by(cert: &X509Certificate, issuer: &X509Certificate) -> bool {
    cert.verify_signature(Some(issuer.public_key())).is_ok()
}

fn issues(issuer: &X509Certificate, cert: &X509Certificate) -> bool {
    issuer.subject().as_raw() == cert.issuer().as_raw() && signed_by(cert, issuer)
}

fn self_signed(cert: &X509Certificate) -> bool {
    cert.subject().as_raw() == cert.issuer().as_raw()
}

fn not_after(cert: &X509Certificate) -> OffsetDateTime {
    cert.validity().not_after.to_datetime()
}

fn date(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

fn aia_url(cert: &X509Certificate) -> Option<String> {
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => aia.accessdescs.iter().find_map(|desc| {
                match (
                    &desc.access_method.to_id_string()[..],
                    &desc.access_location,
                ) {
                    ("1.3.6.1.5.5.7.48.2", GeneralName::URI(uri)) => Some(uri.to_string()),
                    _ => None,
                }
            }),
            _ => None,
        })
}

/// The findings on `chain` (served order, leaf first), using the scenario's certificates to
/// name what should be served instead.
pub fn findings(scenario: &Scenario, chain: &[Vec<u8>], at: OffsetDateTime) -> Vec<Finding> {
    let certs: Vec<X509Certificate> = chain.iter().map(|der| parse(der)).collect();
    let known: Vec<(String, X509Certificate)> = scenario
        .pki
        .certs
        .iter()
        .map(|(id, cert)| (id.clone(), parse(&cert.der)))
        .collect();
    let mut found = Vec::new();
    let mut push = |code, message: String| found.push(Finding { code, message });
    for (index, der) in chain.iter().enumerate() {
        if chain[..index].contains(der) {
            push(
                FindingCode::DuplicateCertificate,
                format!(
                    "certificate {} (`{}`) is sent twice: remove the copy",
                    index + 1,
                    cn(&certs[index])
                ),
            );
        }
    }
    for (index, cert) in certs.iter().enumerate().skip(1) {
        if self_signed(cert) {
            push(
                FindingCode::RootIncluded,
                format!("certificate {} (`{}`) is a self-signed root: clients take roots from their own store, sending it only costs bytes", index + 1, cn(cert)),
            );
        }
    }
    // Walk the path from the leaf: each certificate's issuer is the next one in order,
    // somewhere later (wrong order), a same-key twin with the wrong name, or missing.
    let mut on_path = vec![false; certs.len()];
    let mut current = 0;
    while let Some(cert) = certs.get(current) {
        on_path[current] = true;
        if self_signed(cert) {
            break;
        }
        if let Some(issuer) = (0..certs.len()).find(|&i| !on_path[i] && issues(&certs[i], cert)) {
            if issuer != current + 1 {
                push(
                    FindingCode::WrongOrder,
                    format!("the issuer of `{}` is sent at position {}, not right after it: send each certificate right before its issuer", cn(cert), issuer + 1),
                );
            }
            current = issuer;
            continue;
        }
        if let Some(twin) = certs.iter().position(|c| c != cert && signed_by(cert, c)) {
            let right = known.iter().find(|(_, k)| {
                issues(k, cert) && k.public_key().raw == certs[twin].public_key().raw
            });
            on_path[twin] = true;
            push(
                FindingCode::WrongNameSameKey,
                format!(
                    "`{}` is served with `{}`, which has the right key but the wrong name: `{}` was issued by `{}`{}. Clients that match issuers by name find none in the chain; only a client that already holds the right intermediate (a cache) or fetches it (AIA) accepts",
                    cn(cert),
                    cn(&certs[twin]),
                    cn(cert),
                    right.map_or_else(|| cn_of_issuer(cert), |(_, k)| cn(k)),
                    right.map_or(String::new(), |(id, _)| format!(" (serve `{id}` instead)")),
                ),
            );
            break;
        }
        let url = aia_url(cert).map_or(String::new(), |url| {
            format!("; its AIA caIssuers URL is {url}")
        });
        // A missing issuer that is the root of a store is not missing: stores hold roots.
        let in_a_store = scenario
            .stores
            .values()
            .flatten()
            .any(|id| issues(&parse(&scenario.pki.certs[id].der), cert));
        if !in_a_store {
            push(
                FindingCode::IncompleteChain,
                format!(
                    "the issuer of `{}` (`{}`) is not sent: clients that do not already hold it fail{url}",
                    cn(cert),
                    cn_of_issuer(cert)
                ),
            );
        }
        break;
    }
    for (index, cert) in certs.iter().enumerate() {
        if !on_path[index] && !chain[..index].contains(&chain[index]) {
            push(
                FindingCode::UnrelatedCertificate,
                format!(
                    "certificate {} (`{}`) is on no path from the leaf: remove it",
                    index + 1,
                    cn(cert)
                ),
            );
        }
    }
    for cert in certs.iter().skip(1) {
        // A cross-sign: a CA certificate whose key also appears in a self-signed certificate of
        // the scenario (a root signed by another root).
        let cross = !self_signed(cert)
            && known
                .iter()
                .any(|(_, k)| self_signed(k) && k.public_key().raw == cert.public_key().raw);
        if cross && not_after(cert) < at + SOON {
            let state = if not_after(cert) < at {
                "expired"
            } else {
                "expires"
            };
            push(
                FindingCode::CrossSignExpiring,
                format!("the cross-sign `{}` (issued by `{}`) {state} on {}: clients that build the path through it break then; see the verdicts", cn(cert), cn_of_issuer(cert), date(not_after(cert))),
            );
        }
    }
    if let Some(leaf) = certs.first() {
        if not_after(leaf) < at + SOON {
            push(
                FindingCode::LeafExpiring,
                format!(
                    "the leaf `{}` expires on {}: renew it",
                    cn(leaf),
                    date(not_after(leaf))
                ),
            );
        }
    }
    found
}

fn cn_of_issuer(cert: &X509Certificate) -> String {
    cert.issuer()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map_or_else(|| cert.issuer().to_string(), str::to_string)
}

/// How a target fares on a chain.
pub struct TargetVerdict {
    pub target: String,
    pub store: String,
    pub verdict: Verdict,
    /// Accepted only with the target's intermediate cache or AIA fetching.
    pub only_through_client_state: bool,
}

impl TargetVerdict {
    pub fn accepts(&self) -> bool {
        self.verdict.outcome() == Outcome::Accept
    }

    fn line(&self) -> String {
        let who = format!("{} (store `{}`)", self.target, self.store);
        match &self.verdict {
            Verdict::Accept { chain_built } if self.only_through_client_state => format!(
                "{who}: accept, only through its intermediate cache or AIA fetching (an online checker calls this chain incomplete); path: {}",
                chain_built.join(" -> ")
            ),
            Verdict::Accept { chain_built } => {
                format!("{who}: accept; path: {}", chain_built.join(" -> "))
            }
            Verdict::Reject { kind, detail } => format!("{who}: reject ({kind}): {detail}"),
            Verdict::Skip { reason } => format!("{who}: skipped: {reason}"),
            Verdict::Error { detail } => format!("{who}: error: {detail}"),
        }
    }
}

/// One verdict per target × store it holds in the scenario, from the target's engine.
pub fn judge_chain(
    scenario: &Scenario,
    engines: &[(&Target, Arc<dyn Validator>)],
    chain: &[Vec<u8>],
    dns_name: &str,
    at: OffsetDateTime,
) -> Vec<TargetVerdict> {
    let der = |id: &String| scenario.pki.certs[id].der.clone();
    let mut verdicts = Vec::new();
    for (target, engine) in engines {
        let holding = &target.scenarios[&scenario.name];
        for store in &holding.stores {
            let cache: Vec<Vec<u8>> = holding.caches.iter().flatten().map(der).collect();
            let input = |with_state: bool| ValidationInput {
                id: format!("doctor::{}::{store}", target.name),
                trust_anchors: scenario.stores[store].iter().map(der).collect(),
                served_chain: chain[1..].to_vec(),
                peer: chain[0].clone(),
                cached: if with_state {
                    cache.clone()
                } else {
                    Vec::new()
                },
                aia_repository: if with_state && target.engine.fetches_aia() {
                    scenario
                        .aia_repository
                        .iter()
                        .map(|(url, id)| (url.clone(), der(id)))
                        .collect()
                } else {
                    Vec::new()
                },
                validation_time: Some(SystemTime::from(at)),
                expected_peer_name: Some(PeerName::Dns(dns_name.to_string())),
                usage: Usage::ServerAuth,
                extended_key_usage: vec!["serverAuth".into()],
                key_usage: Vec::new(),
                signature_algorithms: Vec::new(),
                max_chain_depth: None,
                features: Vec::new(),
                crls: Vec::new(),
                // The limbo protocol requires a field validators never read (see
                // `ValidationInput::expected_result`); the doctor knows no answer in advance.
                expected_result: Some(anchorsmith_validators::limbo::ExpectedResult::Success),
                // Handshake harnesses serve the chain with the leaf's key: the scenario's own.
                peer_key_pem: scenario
                    .pki
                    .certs
                    .values()
                    .find(|cert| cert.der == chain[0])
                    .map(|cert| cert.private_key_pkcs8_pem.clone()),
            };
            let verdict = engine.validate(&input(true));
            let has_state = !cache.is_empty() || target.engine.fetches_aia();
            let only_through_client_state = has_state
                && verdict.outcome() == Outcome::Accept
                && engine.validate(&input(false)).outcome() != Outcome::Accept;
            verdicts.push(TargetVerdict {
                target: target.name.clone(),
                store: store.clone(),
                verdict,
                only_through_client_state,
            });
        }
    }
    verdicts
}

/// The scenario's chains that start with the served leaf: the candidates to serve instead.
fn candidates(scenario: &Scenario, chain: &[Vec<u8>]) -> BTreeMap<String, Vec<Vec<u8>>> {
    scenario
        .chains
        .iter()
        .map(|(name, ids)| {
            let ders: Vec<Vec<u8>> = ids
                .iter()
                .map(|id| scenario.pki.certs[id].der.clone())
                .collect();
            (name.clone(), ders)
        })
        .filter(|(_, ders)| ders.first() == chain.first())
        .map(|(name, ders)| {
            // The fix never includes a root.
            let kept = ders
                .iter()
                .enumerate()
                .filter(|(index, der)| *index == 0 || !self_signed(&parse(der)))
                .map(|(_, der)| der.clone())
                .collect();
            (name, kept)
        })
        .collect()
}

/// A candidate chain of the scenario: its name, certificates and verdicts.
type Option3 = (String, Vec<Vec<u8>>, Vec<TargetVerdict>);

/// Every candidate chain of the scenario, judged.
fn judge_candidates(
    scenario: &Scenario,
    chain: &[Vec<u8>],
    judge: &dyn Fn(&[Vec<u8>]) -> Vec<TargetVerdict>,
) -> Vec<Option3> {
    candidates(scenario, chain)
        .into_iter()
        .map(|(name, ders)| {
            let verdicts = judge(&ders);
            (name, ders, verdicts)
        })
        .collect()
}

fn score(verdicts: &[TargetVerdict]) -> usize {
    verdicts.iter().filter(|v| v.accepts()).count()
}

/// The first of the candidates most targets accept (ties keep the scenario's order).
fn best(options: &[Option3]) -> Option<&Option3> {
    options
        .iter()
        .rev()
        .max_by_key(|(_, _, verdicts)| score(verdicts))
}

fn print_fix(scenario: &Scenario, given: &[TargetVerdict], options: &[Option3]) {
    let Some((best_name, best, best_verdicts)) = best(options) else {
        println!(
            "\nThe fix: no chain of scenario `{}` starts with this leaf.",
            scenario.name
        );
        return;
    };
    println!(
        "\nThe fix: serve `{best_name}` ({} of {} accept):",
        score(best_verdicts),
        best_verdicts.len()
    );
    for (old, new) in given.iter().zip(best_verdicts) {
        match (old.accepts(), new.accepts()) {
            (false, true) => println!("  wins  {} (store `{}`)", new.target, new.store),
            (true, false) => println!("  loses {} (store `{}`)", new.target, new.store),
            _ => {}
        }
    }
    for der in best {
        print!("{}", to_pem(der));
    }
    if score(best_verdicts) < best_verdicts.len() && options.len() > 1 {
        println!("\nNo single chain serves every target. Trade-off:");
        print!("{}", tradeoff_table(options));
    }
}

/// Rows: candidate chains; columns: target/store; cells: the engine's outcome.
fn tradeoff_table(options: &[(String, Vec<Vec<u8>>, Vec<TargetVerdict>)]) -> String {
    let Some((_, _, first)) = options.first() else {
        return String::new();
    };
    let mut table = String::from("| chain |");
    for verdict in first {
        table.push_str(&format!(" {} ({}) |", verdict.target, verdict.store));
    }
    table.push_str(&format!("\n|---|{}\n", "---|".repeat(first.len())));
    for (name, _, verdicts) in options {
        table.push_str(&format!("| {name} |"));
        for verdict in verdicts {
            table.push_str(if verdict.accepts() {
                " accept |"
            } else {
                " reject |"
            });
        }
        table.push('\n');
    }
    table
}

fn verdict_json(verdict: &TargetVerdict) -> serde_json::Value {
    let (outcome, reason, path) = match &verdict.verdict {
        Verdict::Accept { chain_built } => ("accept", None, chain_built.clone()),
        Verdict::Reject { kind, detail } => {
            ("reject", Some(format!("{kind}: {detail}")), Vec::new())
        }
        Verdict::Skip { reason } => ("skip", Some(reason.clone()), Vec::new()),
        Verdict::Error { detail } => ("error", Some(detail.clone()), Vec::new()),
    };
    serde_json::json!({
        "target": verdict.target,
        "store": verdict.store,
        "outcome": outcome,
        "reason": reason,
        "path": path,
        "only_through_cache_or_aia": verdict.only_through_client_state,
    })
}

/// The `--json` document (schema: `xtask/doctor.schema.json`).
fn json_report(
    scenario: &Scenario,
    at: OffsetDateTime,
    findings: &[Finding],
    verdicts: &[TargetVerdict],
    unplaced: &[&Target],
    options: &[Option3],
) -> serde_json::Value {
    let fix = best(options).map(|(name, ders, fixed)| {
        let changed = |wins: bool| -> Vec<serde_json::Value> {
            verdicts
                .iter()
                .zip(fixed)
                // Won: rejected as given, accepted fixed; lost: the reverse.
                .filter(|(old, new)| old.accepts() != wins && new.accepts() == wins)
                .map(|(_, new)| serde_json::json!({"target": new.target, "store": new.store}))
                .collect()
        };
        serde_json::json!({
            "chain": name,
            "pem": ders.iter().map(|der| to_pem(der)).collect::<String>(),
            "wins": changed(true),
            "loses": changed(false),
        })
    });
    serde_json::json!({
        "scenario": scenario.name,
        "at": date(at),
        "findings": findings.iter().map(|f| serde_json::json!({"code": f.code.to_string(), "message": f.message})).collect::<Vec<_>>(),
        "verdicts": verdicts.iter().map(verdict_json).collect::<Vec<_>>(),
        "not_judged": unplaced.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
        "fix": fix,
        "tradeoff": options.iter().map(|(name, _, verdicts)| serde_json::json!({
            "chain": name,
            "verdicts": verdicts.iter().map(verdict_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// One certificate as PEM, with Unix line endings (the `pem` crate writes CRLF by default).
fn to_pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}
