//! The limbo export: every case as an x509-limbo testcase (`corpus.limbo.json`), and the check
//! of that file against limbo's JSON schema (`$defs/Limbo` of `limbo-schema.json`).

use anchorsmith_validators::limbo::Limbo;

use crate::Corpus;

/// The corpus as one limbo testcase file, cases in corpus order.
pub fn to_limbo(corpus: &Corpus) -> Limbo {
    Limbo {
        version: 1,
        testcases: corpus.cases.iter().map(|case| case.to_limbo()).collect(),
    }
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
