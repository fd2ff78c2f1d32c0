//! The limbo export: every case as an x509-limbo testcase (`corpus.limbo.json`), with a
//! description written from its scenario, and the check of that file against limbo's JSON schema
//! (`$defs/Limbo` of `limbo-schema.json`).

use std::fmt::Write as _;

use anchorsmith_validators::limbo::{testcase_from_input, Limbo, Testcase};

use crate::spec::ExpectedOutcome;
use crate::{Case, Corpus, Expectation, Scenario};

/// The corpus as one limbo testcase file, cases in corpus order.
pub fn to_limbo(corpus: &Corpus) -> Limbo {
    Limbo {
        version: 1,
        testcases: corpus
            .cases
            .iter()
            .map(|case| testcase(corpus.scenario_of(case), case))
            .collect(),
    }
}

/// The limbo testcase of `case` (of `scenario`): the plain view (served chain only; limbo has no
/// cache or AIA), with the reference verdict on that view as `expected_result`.
pub fn testcase(scenario: &Scenario, case: &Case) -> Testcase {
    let mut testcase = testcase_from_input(
        &case.to_plain_validation_input(),
        case.plain_reference.limbo_expected_result(),
        &description(scenario, case),
    );
    // Keys are written only on request (`gen --emit-keys`): the committed export carries none.
    testcase.peer_certificate_key = None;
    testcase
}

/// The prose of a case's limbo description: scenario, diagram, seed, what the plain view leaves
/// out, and the documented expectations.
pub fn description(scenario: &Scenario, case: &Case) -> String {
    let mut text = format!(
        "**{}** (anchorsmith corpus, scenario `{}`)\n\n{}\n\n```text\n{}\n```\n\n",
        scenario.title, scenario.name, scenario.description, scenario.diagram
    );
    writeln!(
        text,
        "Seed document: `{}`. {}\n",
        scenario.seed_file, scenario.why_it_matters
    )
    .unwrap();
    if case.needs_client_state() {
        let mut state = Vec::new();
        if !case.cache.is_empty() {
            state.push(format!("a client cache holding {}", case.cache.join(", ")));
        }
        if case.aia {
            state.push("AIA caIssuers fetching".to_string());
        }
        writeln!(
            text,
            "This case needs {}, which limbo cannot express: it is exported as its plain view (the served chain only), and the expected result is the reference verdict on that view.\n",
            state.join(" and ")
        )
        .unwrap();
    }
    let (derived, documented): (Vec<&Expectation>, Vec<&Expectation>) =
        case.expectations.iter().partition(|e| e.derived);
    if documented.is_empty() {
        text.push_str("Documented expectations: none (the seed is silent on this combination; the expected result is the reference verdict).\n");
    } else {
        text.push_str("Documented expectations:\n");
        for expectation in documented {
            expectation_line(&mut text, expectation);
        }
    }
    if !derived.is_empty() {
        text.push_str(
            "Derived predictions (the seed does not make them; the quote is their context):\n",
        );
        for expectation in derived {
            expectation_line(&mut text, expectation);
        }
    }
    text
}

/// `- client `c` rejects (unknown-issuer) (seed file, strength): "quote"`.
fn expectation_line(text: &mut String, expectation: &Expectation) {
    let verb = match expectation.outcome {
        ExpectedOutcome::Accept => "accepts",
        ExpectedOutcome::Reject => "rejects",
    };
    let reason = expectation
        .reject_kind
        .map(|kind| format!(" ({kind})"))
        .unwrap_or_default();
    writeln!(
        text,
        "- client `{}` {verb}{reason} ({}, {}): \"{}\"",
        expectation.client, expectation.seed_file, expectation.strength, expectation.quote
    )
    .unwrap();
}

/// Pretty JSON with a final newline: stable bytes for the committed file.
pub fn limbo_json(corpus: &Corpus) -> String {
    let mut text = serde_json::to_string_pretty(&to_limbo(corpus)).expect("limbo types serialise");
    text.push('\n');
    text
}

/// A root schema for a limbo testcase file, from limbo's schema document (which only holds
/// `$defs`): `{"$ref": "#/$defs/Limbo", "$defs": ...}`.
pub fn limbo_root_schema(schema_document: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "$ref": "#/$defs/Limbo",
        "$defs": schema_document.get("$defs").cloned().unwrap_or_default(),
    })
}

/// Validates `instance` against limbo's schema; returns every violation as `path: message`.
pub fn schema_violations(
    schema_document: &serde_json::Value,
    instance: &serde_json::Value,
) -> Result<Vec<String>, String> {
    let schema = limbo_root_schema(schema_document);
    let validator = jsonschema::validator_for(&schema).map_err(|e| e.to_string())?;
    Ok(validator
        .iter_errors(instance)
        .map(|error| format!("{}: {}", error.instance_path, error))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> serde_json::Value {
        serde_json::json!({"$defs": {
            "Limbo": {"type": "object", "required": ["version", "testcases"],
                      "properties": {"version": {"const": 1}, "testcases": {"type": "array"}}}
        }})
    }

    #[test]
    fn root_schema_refers_to_limbo_and_catches_violations() {
        let good = serde_json::json!({"version": 1, "testcases": []});
        assert!(schema_violations(&schema(), &good).unwrap().is_empty());
        let bad = serde_json::json!({"version": 2});
        assert_eq!(schema_violations(&schema(), &bad).unwrap().len(), 2);
    }
}
