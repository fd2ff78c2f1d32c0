//! `corpus/questions.toml`: the questions the report answers first, each from the verdicts of the
//! cases it names. They are parsed and their case ids checked before any validator runs, so a typo
//! costs nothing but the error.

use std::collections::BTreeSet;
use std::path::Path;

use anchorsmith_diagnostics::{parse_toml, Code, Diagnostic};
use toml::Spanned;

/// A question the report answers from the verdicts of the named cases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub text: String,
    /// Case ids, in the order the answer lists them.
    pub cases: Vec<String>,
}

/// The file as written.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionsFile {
    question: Vec<QuestionSpec>,
}

/// One `[[question]]` as written; the case ids keep their spans for errors.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionSpec {
    text: String,
    cases: Vec<Spanned<String>>,
}

/// Parses `source` (the text of `file`) and checks that every case id is in `case_ids`, so a
/// renamed case cannot silently drop an answer. Errors name the file, line, column and field
/// (`question[2].cases[0]`) and show the line.
pub fn parse_questions(
    file: &Path,
    source: &str,
    case_ids: &BTreeSet<&str>,
) -> Result<Vec<Question>, Diagnostic> {
    let parsed: QuestionsFile = parse_toml(file, source)?;
    parsed
        .question
        .into_iter()
        .enumerate()
        .map(|(index, spec)| {
            if let Some((position, unknown)) = spec
                .cases
                .iter()
                .enumerate()
                .find(|(_, id)| !case_ids.contains(id.get_ref().as_str()))
            {
                let diagnostic = Diagnostic::at(
                    Code::UnknownName,
                    file,
                    source,
                    unknown.span(),
                    format!("unknown case id `{}`", unknown.get_ref()),
                )
                .field(format!("question[{index}].cases[{position}]"));
                return Err(match closest(unknown.get_ref(), case_ids) {
                    Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
                    None => diagnostic
                        .help("corpus/generated/CASES.md lists every case id of the corpus"),
                });
            }
            Ok(Question {
                text: spec.text,
                cases: spec.cases.into_iter().map(Spanned::into_inner).collect(),
            })
        })
        .collect()
}

/// The known id sharing the longest prefix with `unknown`, when that is most of it: a typo is
/// usually late in a long id, and a case id is long.
fn closest<'a>(unknown: &str, case_ids: &BTreeSet<&'a str>) -> Option<&'a str> {
    let common = |id: &str| {
        id.chars()
            .zip(unknown.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    let (best, length) = case_ids
        .iter()
        .map(|id| (*id, common(id)))
        .max_by_key(|(_, length)| *length)?;
    (length * 3 >= unknown.chars().count() * 2).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [&str; 2] = [
        "root-expiry::long-chain::store-old::at-2021-10-01",
        "root-expiry::short-chain::store-new::at-2021-10-01",
    ];

    fn parse(source: &str) -> Result<Vec<Question>, Diagnostic> {
        parse_questions(
            Path::new("corpus/questions.toml"),
            source,
            &IDS.into_iter().collect(),
        )
    }

    #[test]
    fn questions_keep_their_order_and_cases() {
        let questions = parse(
            "[[question]]\ntext = \"Long?\"\ncases = [\"root-expiry::long-chain::store-old::at-2021-10-01\"]\n\n\
[[question]]\ntext = \"Both?\"\ncases = [\n  \"root-expiry::short-chain::store-new::at-2021-10-01\",\n  \
\"root-expiry::long-chain::store-old::at-2021-10-01\",\n]\n",
        )
        .unwrap();
        assert_eq!(questions.len(), 2);
        assert_eq!(questions[1].text, "Both?");
        assert_eq!(questions[1].cases, vec![IDS[1], IDS[0]]);
    }

    #[test]
    fn an_unknown_case_id_is_located_with_its_field_and_a_suggestion() {
        let source = "[[question]]\ntext = \"Long?\"\ncases = [\"root-expiry::long-chain::store-old::at-2021-10-01\"]\n\n\
[[question]]\ntext = \"Short?\"\ncases = [\n  \"root-expiry::short-chain::store-new::at-2021-10-01\",\n  \
\"root-expiry::short-chain::store-new::at-2021-10-02\",\n]\n";
        let error = parse(source).unwrap_err();
        assert_eq!(error.code, Code::UnknownName);
        assert_eq!(error.field.as_deref(), Some("question[1].cases[1]"));
        assert_eq!((error.line, error.column), (9, 3));
        let rendered = error.to_string();
        assert!(
            rendered.contains("9 |   \"root-expiry::short-chain::store-new::at-2021-10-02\","),
            "{rendered}"
        );
        assert!(rendered.contains("^^^^^"), "{rendered}");
        assert!(
            rendered.contains("did you mean `root-expiry::short-chain::store-new::at-2021-10-01`?"),
            "{rendered}"
        );
    }

    #[test]
    fn an_unrelated_id_gets_no_suggestion() {
        let error = parse("[[question]]\ntext = \"?\"\ncases = [\"x\"]\n").unwrap_err();
        assert_eq!(error.field.as_deref(), Some("question[0].cases[0]"));
        assert!(error.to_string().contains("CASES.md"), "{error}");
    }

    #[test]
    fn a_misspelt_key_is_a_shape_error_at_its_line() {
        let error = parse("[[question]]\ntext = \"?\"\ncase = [\"x\"]\n").unwrap_err();
        assert_eq!(error.code, Code::Shape);
        assert_eq!(error.line, 3);
        assert!(error.message.contains("unknown field `case`"), "{error}");
    }
}
