//! Lints: findings about a set of anchors (the chosen bundle, or a device's existing store), each
//! with a severity and a sentence a firmware engineer understands.

use serde::Serialize;
use time::OffsetDateTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, strum::Display)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One finding. Names are human names of certificates (subject CN) and endpoint hosts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "lint", rename_all = "kebab-case")]
pub enum Lint {
    /// Every anchor that covers the endpoint is an intermediate: it breaks at the CA's next
    /// rotation (seed 004).
    OnlyIntermediate {
        endpoint: String,
        anchors: Vec<String>,
    },
    /// The endpoint depends on one root alone.
    SingleRoot { endpoint: String, root: String },
    /// The endpoint's covering anchors all belong to one CA operator (subject organization).
    SingleOperator { endpoint: String, operator: String },
    /// An anchor expires before the horizon; `replacement`: later-expiring candidates that
    /// cover the same endpoints, or roots it cross-signed (its CA's successors).
    ExpiresBeforeHorizon {
        anchor: String,
        #[serde(with = "time::serde::rfc3339")]
        not_after: OffsetDateTime,
        replacement: Vec<String>,
    },
    /// The endpoint has fewer covering anchors than asked.
    BelowMinimum {
        endpoint: String,
        have: usize,
        want: usize,
    },
    /// Anchors with the same subject but different keys: a lookup by subject (the ESP-IDF
    /// bundle, sorted by subject) finds only one of them.
    SameSubject { subject: String, count: usize },
    /// The bundle is larger than the device allows.
    ExceedsMaxBytes { bytes: usize, max: usize },
    /// An anchor covers the endpoint's current leaf (issued on or before `distrust_after`), but
    /// not its renewal: TLS certificates issued after that date, before the horizon, are not
    /// trusted through it. `leaf_not_before`: the current leaf's, `None` when only the
    /// intermediates are at hand (the leaves to come are then the ones at stake). `backup`:
    /// another anchor of the store covers the endpoint without such a date before the horizon.
    DistrustAfter {
        anchor: String,
        #[serde(with = "time::serde::rfc3339")]
        distrust_after: OffsetDateTime,
        /// The metadata source that gives the date, with its note.
        source: String,
        endpoint: String,
        #[serde(with = "time::serde::rfc3339::option")]
        leaf_not_before: Option<OffsetDateTime>,
        backup: bool,
    },
    /// An anchor whose key the device cannot use; `would_cover`: the endpoints it would have
    /// covered otherwise.
    UnsupportedKeyType {
        anchor: String,
        key: crate::policy::Key,
        would_cover: Vec<String>,
    },
    /// The endpoint reaches an anchor only through known cross-signs its server does not send
    /// (names as `build::cross_sign_name`): the device must hold them.
    ViaCrossSign {
        endpoint: String,
        anchor: String,
        cross_signs: Vec<String>,
    },
}

impl Lint {
    pub fn severity(&self) -> Severity {
        match self {
            Lint::OnlyIntermediate { .. } | Lint::ExceedsMaxBytes { .. } => Severity::Error,
            // Without a backup, the endpoint's next leaf fails on the device.
            Lint::DistrustAfter { backup: false, .. } => Severity::Error,
            Lint::DistrustAfter { backup: true, .. } | Lint::UnsupportedKeyType { .. } => {
                Severity::Warning
            }
            Lint::SingleRoot { .. }
            | Lint::SingleOperator { .. }
            | Lint::ExpiresBeforeHorizon { .. }
            | Lint::BelowMinimum { .. }
            | Lint::SameSubject { .. }
            | Lint::ViaCrossSign { .. } => Severity::Warning,
        }
    }

    /// The endpoint a lint is about, when it is about one.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Lint::OnlyIntermediate { endpoint, .. }
            | Lint::SingleRoot { endpoint, .. }
            | Lint::SingleOperator { endpoint, .. }
            | Lint::BelowMinimum { endpoint, .. }
            | Lint::DistrustAfter { endpoint, .. }
            | Lint::ViaCrossSign { endpoint, .. } => Some(endpoint),
            Lint::ExpiresBeforeHorizon { .. }
            | Lint::SameSubject { .. }
            | Lint::ExceedsMaxBytes { .. }
            | Lint::UnsupportedKeyType { .. } => None,
        }
    }

    pub fn sentence(&self) -> String {
        match self {
            Lint::OnlyIntermediate { endpoint, anchors } => format!(
                "{endpoint} is trusted only through the intermediate {}: when the CA rotates its intermediates, the device stops connecting until its firmware is updated.",
                anchors.join(", ")
            ),
            Lint::SingleRoot { endpoint, root } => format!(
                "{endpoint} depends on the single root {root}: if that root is distrusted or its CA changes hierarchy, the device has no backup path."
            ),
            Lint::SingleOperator { endpoint, operator } => format!(
                "{endpoint} depends on one CA operator, {operator}: a change at that CA alone can break it."
            ),
            Lint::ExpiresBeforeHorizon { anchor, not_after, replacement } => {
                let date = not_after.date();
                if replacement.is_empty() {
                    format!("{anchor} expires on {date}, before the horizon, and no candidate replaces it for the endpoints it covers.")
                } else {
                    let (names, verbs) = match replacement.as_slice() {
                        [one] => (one.clone(), "outlives it and takes"),
                        [rest @ .., last] => (format!("{} and {last}", rest.join(", ")), "outlive it and take"),
                        [] => unreachable!("handled above"),
                    };
                    format!("{anchor} expires on {date}, before the horizon; {names} {verbs} over its endpoints (covering them already, or cross-signed by it as its successor): keep it in the bundle.")
                }
            }
            Lint::BelowMinimum { endpoint, have, want } => format!(
                "{endpoint} has {have} covering anchor(s) among the candidates, fewer than the {want} asked: every one of them is in the bundle."
            ),
            Lint::SameSubject { subject, count } => format!(
                "{count} anchors share the subject {subject} with different keys: a device that looks anchors up by subject (the ESP-IDF bundle) can match only one of them."
            ),
            Lint::ExceedsMaxBytes { bytes, max } => format!(
                "the bundle takes {bytes} bytes, more than the {max} the device allows."
            ),
            Lint::DistrustAfter { anchor, distrust_after, source, endpoint, leaf_not_before, backup } => {
                let then = if *backup {
                    "another anchor of the bundle must carry it from then on."
                } else {
                    "no other anchor of the bundle covers it, so the device will refuse the renewed certificate: add a root the endpoint's CA will issue from."
                };
                let date = distrust_after.date();
                match leaf_not_before {
                    Some(issued) => format!(
                        "{anchor} is distrusted for TLS certificates issued after {date} ({source}): {endpoint}'s current certificate (issued {}) still works through it, but its next renewal will not; {then}",
                        issued.date()
                    ),
                    None => format!(
                        "{anchor} is distrusted for TLS certificates issued after {date} ({source}): {endpoint}'s certificates issued after that date, before the horizon, will not work through it; {then}"
                    ),
                }
            }
            Lint::UnsupportedKeyType { anchor, key, would_cover } => {
                if would_cover.is_empty() {
                    format!("{anchor} has a key of type {key}, which the device cannot check signatures with: it is useless as an anchor.")
                } else {
                    format!(
                        "{anchor} would cover {} but has a key of type {key}, which the device cannot check signatures with, so it is left out.",
                        would_cover.join(", ")
                    )
                }
            }
            Lint::ViaCrossSign { endpoint, anchor, cross_signs } => match cross_signs.as_slice() {
                [one] => format!(
                    "{endpoint} reaches {anchor} only through the cross-sign {one}, which its server does not send: the firmware must ship it as an intermediate, or the server must send it."
                ),
                many => format!(
                    "{endpoint} reaches {anchor} only through the cross-signs {}, which its server does not send: the firmware must ship them as intermediates, or the server must send them.",
                    many.join(" and ")
                ),
            },
        }
    }
}

/// The lints as a person reads them: lints that differ only in the endpoint they open with are
/// one line, `r10, r11 and r12: each depends on …`, in the order of their first occurrence.
/// (manifest.json keeps every lint apart, for machines.)
pub fn summarized(lints: &[Lint]) -> Vec<(Severity, String)> {
    let mut lines: Vec<(Severity, String, Vec<String>)> = Vec::new();
    for lint in lints {
        let sentence = lint.sentence();
        let (rest, endpoint) = match lint.endpoint() {
            Some(endpoint) => match sentence.strip_prefix(&format!("{endpoint} ")) {
                Some(rest) => (rest.to_string(), Some(endpoint.to_string())),
                None => (sentence.clone(), None),
            },
            None => (sentence.clone(), None),
        };
        let Some(endpoint) = endpoint else {
            lines.push((lint.severity(), sentence, Vec::new()));
            continue;
        };
        match lines.iter_mut().find(|(severity, text, endpoints)| {
            *severity == lint.severity() && *text == rest && !endpoints.is_empty()
        }) {
            Some((_, _, endpoints)) => endpoints.push(endpoint),
            None => lines.push((lint.severity(), rest, vec![endpoint])),
        }
    }
    lines
        .into_iter()
        .map(|(severity, text, endpoints)| match endpoints.as_slice() {
            [] => (severity, text),
            [one] => (severity, format!("{one} {text}")),
            [rest @ .., last] => (
                severity,
                format!("{} and {last}: each {text}", rest.join(", ")),
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intermediate_anchor_is_an_error_and_says_what_breaks() {
        let lint = Lint::OnlyIntermediate {
            endpoint: "api.device.example".into(),
            anchors: vec!["Let's Encrypt Authority X3".into()],
        };
        assert_eq!(lint.severity(), Severity::Error);
        assert!(lint.sentence().starts_with(
            "api.device.example is trusted only through the intermediate Let's Encrypt Authority X3"
        ));
        let expiry = Lint::ExpiresBeforeHorizon {
            anchor: "Old Root".into(),
            not_after: time::macros::datetime!(2035-06-04 11:04:38 UTC),
            replacement: Vec::new(),
        };
        assert_eq!(expiry.severity(), Severity::Warning);
        assert!(expiry.sentence().contains("expires on 2035-06-04"));
        assert!(expiry.sentence().contains("no candidate replaces it"));
        let json = serde_json::to_value(&expiry).unwrap();
        assert_eq!(json["lint"], "expires-before-horizon");
    }

    #[test]
    fn lints_differing_only_by_endpoint_are_one_line() {
        let single = |endpoint: &str| Lint::SingleRoot {
            endpoint: endpoint.into(),
            root: "ISRG Root X1".into(),
        };
        let lints = [
            single("r10"),
            Lint::BelowMinimum {
                endpoint: "r10".into(),
                have: 1,
                want: 2,
            },
            single("r11"),
            single("r12"),
            Lint::SingleRoot {
                endpoint: "e5".into(),
                root: "ISRG Root X2".into(),
            },
        ];
        let lines = summarized(&lints);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0].0, Severity::Warning);
        assert!(
            lines[0]
                .1
                .starts_with("r10, r11 and r12: each depends on the single root ISRG Root X1:"),
            "{}",
            lines[0].1
        );
        assert!(lines[1].1.starts_with("r10 has 1 covering anchor"));
        assert!(lines[2]
            .1
            .starts_with("e5 depends on the single root ISRG Root X2"));
    }
}
