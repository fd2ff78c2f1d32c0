//! Batch mode: many served chains, JSON Lines in, one result line out per input line, in input
//! order, keyed by the input's `id` (the same fields as `--json`, compact; both line formats:
//! `doctor/batch.schema.json`). The path to scanning a fleet's or a CT log's served chains.
//!
//! Every line is read and checked ([`Batch::read`]) before any chain is judged: bad input
//! anywhere is a located [`Diagnostic`] per bad line, and nothing is judged. Chains are then
//! judged in parallel (rayon) with the engines the caller gives (in `cargo xtask doctor --batch`,
//! the client models; for a chain no scenario knows, the real panel of real validators and
//! stores, when given), each (certificate, issuer key) signature verified once for the whole
//! batch through one shared [`SignatureCache`]: by the models' path builders and by the findings.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use anchorsmith_corpus::{Case, Scenario, Target};
use anchorsmith_diagnostics::{parse_json, Code, Diagnostic};
use anchorsmith_validators::model::SignatureCache;
use base64::Engine as _;
use rayon::prelude::*;
use serde::Deserialize;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::findings::Reference;
use crate::report::Judgement;
use crate::scenario::NoScenario;
use crate::{Diagnosis, Engine, FindingCode, Panel, ServedChain};

/// One input line as written (`doctor/batch.schema.json`, `$defs/input`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineSpec {
    id: String,
    /// PEM blocks or base64 DER, leaf first.
    chain: Vec<String>,
    /// A date or an RFC 3339 instant; default: the batch's `now`.
    #[serde(default)]
    at: Option<String>,
    /// A corpus scenario; default: the batch's default, else inferred from the chain.
    #[serde(default)]
    scenario: Option<String>,
}

/// One input line, read and checked.
#[derive(Clone, Debug)]
pub struct Request {
    pub id: String,
    /// 1-based line of the input file.
    pub line: usize,
    /// The scenario that judges it (its name); `None`: no scenario knows the chain, and the
    /// real validators judge it against the real stores.
    pub scenario: Option<String>,
    pub at: OffsetDateTime,
    pub chain: ServedChain,
}

/// One panel per scenario, in `scenarios`' order, for [`Batch::new`]: every engine whose target
/// is placed in the scenario seated with its stores, cache and AIA. `engines`: the chosen targets
/// that have an engine in this run; `chosen`: every target asked for (those not placed in a
/// scenario are its panel's `not_judged`, as in `--json`). Built apart from the batch because the
/// batch's findings references borrow the panels' stores.
pub fn panels(
    scenarios: &[Scenario],
    cases: &[Case],
    engines: &[Engine],
    chosen: &[&Target],
) -> Vec<Panel> {
    scenarios
        .iter()
        .map(|scenario| {
            let (placed, unplaced) = crate::placed(scenario, chosen.to_vec());
            let seated: Vec<Engine> = engines
                .iter()
                .filter(|engine| placed.iter().any(|p| p.name == engine.target.name))
                .cloned()
                .collect();
            Panel::of_scenario(
                scenario,
                &seated,
                &crate::dns_name(cases, scenario),
                unplaced.iter().map(|t| t.name.clone()).collect(),
            )
        })
        .collect()
}

/// [`panels`] judged by the chosen targets whose engine is a client model, each verifying
/// through the shared `signatures` (the others are left out: a real validator costs a process
/// call per chain).
pub fn model_panels(
    scenarios: &[Scenario],
    cases: &[Case],
    chosen: &[&Target],
    signatures: &Arc<SignatureCache>,
) -> Vec<Panel> {
    let (engines, _real) = crate::setup::model_engines(chosen, signatures);
    let judging: Vec<&Target> = engines.iter().map(|engine| engine.target).collect();
    panels(scenarios, cases, &engines, &judging)
}

/// One scenario made ready for many chains: its panel, and the findings' reference (the
/// scenario's certificates and the panel's stores parsed once).
struct Prepared<'a> {
    scenario: &'a Scenario,
    panel: &'a Panel,
    reference: Reference<'a>,
}

/// The real validators and stores ([`Panel::real`]), for chains no scenario knows, made ready
/// once: their stores parsed for the findings. Each chain gets the panel with its leaf's name.
struct PreparedReal<'a> {
    panel: &'a Panel,
    reference: Reference<'a>,
}

/// The scenarios, panels and shared signature cache a batch judges with.
pub struct Batch<'a> {
    /// Every scenario, in corpus order (the inference's candidates).
    all: &'a [Scenario],
    scenarios: Vec<Prepared<'a>>,
    /// Without it, a chain no scenario knows is a bad line.
    real: Option<PreparedReal<'a>>,
    default_scenario: Option<String>,
    signatures: Arc<SignatureCache>,
    now: OffsetDateTime,
}

impl<'a> Batch<'a> {
    /// `panels`: one per scenario, in the same order ([`panels`]). `real`: the panel of real
    /// validators and stores ([`Panel::real`], its name unused) that judges a chain no scenario
    /// knows, as the single-chain doctor does; without it such a chain is a bad line.
    /// `default_scenario` judges lines that name none; without it, such a line's scenario is
    /// inferred from its chain.
    pub fn new(
        scenarios: &'a [Scenario],
        panels: &'a [Panel],
        real: Option<&'a Panel>,
        default_scenario: Option<&str>,
        signatures: Arc<SignatureCache>,
        now: OffsetDateTime,
    ) -> Batch<'a> {
        assert_eq!(scenarios.len(), panels.len(), "one panel per scenario");
        let all = scenarios;
        let scenarios = scenarios
            .iter()
            .zip(panels)
            .map(|(scenario, panel)| Prepared {
                scenario,
                panel,
                reference: Reference::of(Some(scenario), panel),
            })
            .collect();
        Batch {
            all,
            scenarios,
            real: real.map(|panel| PreparedReal {
                panel,
                reference: Reference::of(None, panel),
            }),
            default_scenario: default_scenario.map(str::to_string),
            signatures,
            now,
        }
    }

    /// The cache every judgement of this batch shares (its counts: requested vs performed).
    pub fn signatures(&self) -> &SignatureCache {
        &self.signatures
    }

    /// Every line of `source` (the contents of `file`), read and checked; blank lines are
    /// skipped. `Err`: a located diagnostic for each bad line (in line order), or for the file.
    pub fn read(&self, file: &Path, source: &str) -> Result<Vec<Request>, Vec<Diagnostic>> {
        let lines = lines(source);
        if lines.is_empty() {
            return Err(vec![Diagnostic::whole_file(
                Code::Syntax,
                file,
                "no chain: a batch file holds one JSON object per line",
            )]);
        }
        let read: Vec<Result<Request, Diagnostic>> = lines
            .par_iter()
            .map(|(number, range)| self.read_line(file, source, *number, range.clone()))
            .collect();
        let mut errors = Vec::new();
        let mut requests = Vec::new();
        let mut first_line_of: HashMap<String, usize> = HashMap::new();
        for (result, (number, range)) in read.into_iter().zip(&lines) {
            match result {
                Ok(request) => {
                    if let Some(first) = first_line_of.get(&request.id) {
                        let text = &source[range.clone()];
                        let span = value_span(text, "id", &request.id);
                        errors.push(
                            Line::new(file, text, *number)
                                .error(
                                    Code::Duplicate,
                                    span,
                                    format!("id `{}` is already used on line {first}", request.id),
                                )
                                .field("id")
                                .help("results are keyed by id: give every line its own"),
                        );
                        continue;
                    }
                    first_line_of.insert(request.id.clone(), *number);
                    requests.push(request);
                }
                Err(diagnostic) => errors.push(diagnostic),
            }
        }
        if errors.is_empty() {
            Ok(requests)
        } else {
            Err(errors)
        }
    }

    /// One line (1-based `number`, bytes `range` of `source`), read and checked.
    fn read_line(
        &self,
        file: &Path,
        source: &str,
        number: usize,
        range: Range<usize>,
    ) -> Result<Request, Diagnostic> {
        let text = &source[range];
        let line = Line::new(file, text, number);
        let spec: LineSpec = match serde_json::from_str(text) {
            Ok(spec) => spec,
            // The slow path, only for a bad line: the same parse, located in the whole file.
            Err(_) => {
                return Err(parse_json::<LineSpec>(file, &line.padded())
                    .err()
                    .unwrap_or_else(|| line.error(Code::Syntax, 0..1, "not a JSON object")))
            }
        };
        if spec.id.is_empty() {
            return Err(line
                .error(
                    Code::InvalidValue,
                    value_span(text, "id", ""),
                    "an empty id",
                )
                .field("id"));
        }
        let at = match &spec.at {
            Some(at) => anchorsmith_bundle::build::parse_instant(at).map_err(|message| {
                line.error(Code::InvalidValue, value_span(text, "at", at), message)
                    .field("at")
            })?,
            None => self.now,
        };
        if spec.chain.is_empty() {
            return Err(line
                .error(Code::Shape, key_span(text, "chain"), "an empty chain")
                .field("chain")
                .help("the chain as the server sends it, leaf first: at least the leaf"));
        }
        let certs = spec
            .chain
            .iter()
            .enumerate()
            .map(|(index, element)| {
                decode(element).map_err(|message| {
                    line.error(Code::Encoding, value_span(text, "chain", element), message)
                        .field(format!("chain[{index}]"))
                })
            })
            .collect::<Result<Vec<Vec<u8>>, Diagnostic>>()?;
        let chain = ServedChain::new(certs).map_err(|error| {
            let (span, field) = match &error {
                crate::ChainError::NotX509 { index, .. }
                | crate::ChainError::TrailingBytes { index, .. } => (
                    value_span(text, "chain", &spec.chain[*index]),
                    format!("chain[{index}]"),
                ),
                crate::ChainError::Empty => (key_span(text, "chain"), "chain".to_string()),
            };
            line.error(Code::Encoding, span, error.to_string())
                .field(field)
        })?;
        let scenario = match spec
            .scenario
            .as_deref()
            .or(self.default_scenario.as_deref())
        {
            Some(name) => match self.scenarios.iter().find(|p| p.scenario.name == name) {
                Some(prepared) => Some(prepared.scenario.name.clone()),
                None => {
                    return Err(line
                        .error(
                            Code::UnknownName,
                            value_span(text, "scenario", name),
                            format!("no such scenario `{name}`"),
                        )
                        .field("scenario")
                        .help(format!("known: {}", self.scenario_names().join(", "))))
                }
            },
            None => self.infer_scenario(&chain).map_err(|message| {
                line.error(Code::UnknownName, 0..1, message)
                    .field("scenario")
                    .help(if self.real.is_some() {
                        "name it: \"scenario\": \"...\" on the line, or --scenario for every line"
                    } else {
                        "name it: \"scenario\": \"...\" on the line, or --scenario for every line; with no --targets (which only a scenario places), the real validators judge a chain no scenario knows"
                    })
            })?,
        };
        Ok(Request {
            id: spec.id,
            line: number,
            scenario,
            at,
            chain,
        })
    }

    fn scenario_names(&self) -> Vec<&str> {
        self.scenarios
            .iter()
            .map(|p| p.scenario.name.as_str())
            .collect()
    }

    /// The scenario a chain belongs to ([`crate::infer_scenario`]), the leaf's issuer looked
    /// for among the certificates parsed once per scenario, through the batch's cache; `None`
    /// when none knows it and the real panel judges it.
    fn infer_scenario(&self, chain: &ServedChain) -> Result<Option<String>, String> {
        let issued_leaf = |scenario: &Scenario| {
            let prepared = self
                .scenarios
                .iter()
                .find(|p| p.scenario.name == scenario.name)
                .expect("one prepared scenario per scenario");
            let known = prepared.reference.known.iter().map(|known| &known.cert);
            crate::scenario::issued_leaf(known, chain)
        };
        let inferred = crate::cert::with_signature_cache(&self.signatures, || {
            crate::scenario::infer_scenario_with(self.all, chain, issued_leaf)
        });
        match inferred {
            Ok(inferred) => Ok(Some(inferred.scenario().name.clone())),
            Err(NoScenario::Unknown) if self.real.is_some() => Ok(None),
            Err(reason) => Err(format!("no scenario given, and {reason}")),
        }
    }

    /// One chain's diagnosis, its signatures verified through the batch's cache.
    pub fn judge(&self, request: &Request) -> Diagnosis {
        let Some(scenario) = &request.scenario else {
            let real = self
                .real
                .as_ref()
                .expect("read() takes a chain no scenario knows only with a real panel");
            // The name the real validators check: the leaf's own, as the single-chain doctor.
            let mut panel = real.panel.clone();
            panel.dns_name = crate::cert::leaf_dns_name(request.chain.leaf());
            return crate::cert::with_signature_cache(&self.signatures, || {
                crate::diagnose_with(&real.reference, None, &panel, &request.chain, request.at)
            });
        };
        let prepared = self
            .scenarios
            .iter()
            .find(|p| p.scenario.name == *scenario)
            .expect("read() checked the scenario");
        crate::cert::with_signature_cache(&self.signatures, || {
            crate::diagnose_with(
                &prepared.reference,
                Some(prepared.scenario),
                prepared.panel,
                &request.chain,
                request.at,
            )
        })
    }

    /// Every request judged in parallel, results in request order.
    pub fn judge_all(&self, requests: &[Request]) -> Vec<Diagnosis> {
        requests.par_iter().map(|r| self.judge(r)).collect()
    }
}

/// One output line (`doctor/batch.schema.json`, `$defs/output`): the input's `id`, what the
/// `--json` document says of the chain ([`Judgement`], the same words), and the fix's chain name
/// only.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ResultLine {
    pub id: String,
    #[serde(flatten)]
    pub judgement: Judgement,
    /// The name of the scenario's chain to serve instead; null when none starts with the leaf.
    pub fix: Option<String>,
}

/// The output line for `diagnosis`.
pub fn result_line(id: &str, diagnosis: &Diagnosis) -> ResultLine {
    ResultLine {
        id: id.to_string(),
        judgement: Judgement::of(diagnosis),
        fix: diagnosis.fix_chain().map(|best| best.name.clone()),
    }
}

/// What a batch found, for its closing summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub chains: usize,
    /// Chains with at least one finding of each code.
    pub with_finding: BTreeMap<FindingCode, usize>,
    /// Chains that are not all good (some judged target rejects, an engine failed or nothing
    /// accepted: the single-chain doctor's exit status 1).
    pub rejected: usize,
    /// Chains no scenario knows, judged by the real validators against the real stores.
    pub by_real_validators: usize,
}

impl Summary {
    pub fn add(&mut self, diagnosis: &Diagnosis) {
        self.chains += 1;
        let mut codes: Vec<FindingCode> = diagnosis.findings.iter().map(|f| f.code).collect();
        codes.sort();
        codes.dedup();
        for code in codes {
            *self.with_finding.entry(code).or_default() += 1;
        }
        if !diagnosis.tally().all_good() {
            self.rejected += 1;
        }
        if diagnosis.scenario.is_none() {
            self.by_real_validators += 1;
        }
    }

    /// The counts by code, in the codes' alphabetical order (as the summaries print them).
    pub fn by_code_name(&self) -> Vec<(FindingCode, usize)> {
        let mut counts: Vec<(FindingCode, usize)> =
            self.with_finding.iter().map(|(c, n)| (*c, *n)).collect();
        counts.sort_by_key(|(code, _)| code.to_string());
        counts
    }
}

/// The non-blank lines of `source`: 1-based number and byte range (without the line break).
fn lines(source: &str) -> Vec<(usize, Range<usize>)> {
    let mut found = Vec::new();
    let mut start = 0;
    for (index, line) in source.split_inclusive('\n').enumerate() {
        let text = line.trim_end_matches(['\n', '\r']);
        if !text.trim().is_empty() {
            found.push((index + 1, start..start + text.len()));
        }
        start += line.len();
    }
    found
}

/// One line of the input, for locating an error in it as a line of the whole file.
struct Line<'t> {
    file: &'t Path,
    text: &'t str,
    number: usize,
}

impl<'t> Line<'t> {
    fn new(file: &'t Path, text: &'t str, number: usize) -> Self {
        Line { file, text, number }
    }

    /// The line at its place in a source of blank lines: line numbers and columns as in the file,
    /// the excerpt the line itself (built only on an error, so a big file is not copied).
    fn padded(&self) -> String {
        format!("{}{}", "\n".repeat(self.number - 1), self.text)
    }

    /// An error at bytes `span` of the line.
    fn error(&self, code: Code, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        let offset = self.number - 1;
        let span = span.start + offset..span.end + offset;
        Diagnostic::at(code, self.file, &self.padded(), span, message)
    }
}

/// The bytes of `key`'s value in the line: the first occurrence of `value` JSON-encoded after
/// the key (the line's first character if the writer encoded it otherwise, e.g. `\/`).
fn value_span(text: &str, key: &str, value: &str) -> Range<usize> {
    let encoded = serde_json::to_string(value).unwrap_or_default();
    let after = key_span(text, key).end;
    text[after..]
        .find(&encoded)
        .map(|at| after + at..after + at + encoded.len())
        .unwrap_or(0..1)
}

/// The bytes of `"key"` in the line (its first character if it is not there).
fn key_span(text: &str, key: &str) -> Range<usize> {
    let quoted = format!("\"{key}\"");
    text.find(&quoted)
        .map(|at| at..at + quoted.len())
        .unwrap_or(0..1)
}

/// One chain element: a PEM certificate block (nothing else around it) or base64 DER; either
/// way one well-formed X.509 certificate.
fn decode(element: &str) -> Result<Vec<u8>, String> {
    let trimmed = element.trim();
    let der = if trimmed.starts_with("-----BEGIN") {
        let blocks = anchorsmith_bundle::load::certificates(Path::new("chain element"), trimmed)
            .map_err(|diagnostic| diagnostic.message)?;
        match &blocks[..] {
            [(der, span)] if span.start == 0 && trimmed[span.end..].trim().is_empty() => {
                der.clone()
            }
            [(_, span)] if span.start == 0 => {
                return Err("trailing data after the certificate's PEM block".into())
            }
            [_] => return Err("data before the certificate's PEM block".into()),
            _ => {
                return Err(format!(
                    "{} PEM blocks: give one certificate per element",
                    blocks.len()
                ))
            }
        }
    } else {
        let compact: String = trimmed.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|error| format!("neither a PEM block nor base64 DER: {error}"))?
    };
    match X509Certificate::from_der(&der) {
        Ok(([], _)) => Ok(der),
        Ok((rest, _)) => Err(format!("{} bytes after the certificate's DER", rest.len())),
        Err(error) => Err(format!("not an X.509 certificate: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::to_pem;
    use crate::testpki::healthy;

    #[test]
    fn an_element_is_one_pem_certificate_or_base64_der() {
        let p = healthy();
        assert_eq!(decode(&to_pem(&p.leaf)).unwrap(), p.leaf);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&p.leaf);
        assert_eq!(decode(&b64).unwrap(), p.leaf);
        let two = format!("{}{}", to_pem(&p.leaf), to_pem(&p.inter));
        assert!(decode(&two).unwrap_err().contains("2 PEM blocks"));
        let trailing = format!("{}junk", to_pem(&p.leaf));
        assert!(decode(&trailing).unwrap_err().contains("trailing data"));
        assert!(decode("not base64!")
            .unwrap_err()
            .contains("neither a PEM block"));
        let mut longer = p.leaf.clone();
        longer.push(0);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&longer);
        assert!(decode(&b64).unwrap_err().contains("1 bytes after"));
    }

    #[test]
    fn blank_lines_are_skipped_and_numbers_kept() {
        assert_eq!(lines("a\n\n  \nb\r\n"), vec![(1, 0..1), (4, 6..7)]);
    }

    #[test]
    fn a_value_is_found_after_its_key() {
        let text = r#"{"id": "x", "scenario": "x"}"#;
        assert_eq!(&text[value_span(text, "scenario", "x")], "\"x\"");
        assert_eq!(value_span(text, "scenario", "y"), 0..1);
    }
}
