//! `report.html`: one self-contained page (inline CSS, no scripts, nothing to fetch) with the
//! chosen anchors and why, coverage per endpoint and until when, the lints coloured by severity,
//! and a timeline picture (inline SVG) of the anchors' and the intermediates' validity up to the
//! horizon. Built with maud, so every name is escaped by construction. The drawing follows the
//! corpus timeline (one bar per certificate, dashed vertical lines for instants) without
//! depending on the corpus crate.

use std::collections::BTreeSet;

use anchorsmith_timeaxis::{
    coordinate, date, Window, LEFT_MARGIN, PLOT_WIDTH, ROW_HEIGHT, TOP_MARGIN,
};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use time::OffsetDateTime;

use crate::build::{is_root, name, Bundle};
use crate::coverage;
use crate::lint::Severity;
use crate::proof::Proof;

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;vertical-align:top}th{background:#f4f4f4}
li.error{background:#f6c6c6}li.warning{background:#f9e79f}li.info{background:#d6eaf8}
li.error,li.warning,li.info{padding:2px 6px;margin:2px 0;list-style:none}td.none{background:#f6c6c6}
";

/// What a bar is, which decides its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A chosen anchor that is self-signed.
    RootAnchor,
    /// A chosen anchor issued by another CA (seed 004's pinned intermediate).
    IntermediateAnchor,
    /// A CA certificate an endpoint sends.
    SentIntermediate,
}

impl Role {
    fn colour(self) -> &'static str {
        match self {
            Role::RootAnchor => "#c39bd3",
            Role::IntermediateAnchor => "#e74c3c",
            Role::SentIntermediate => "#f0b27a",
        }
    }
}

/// One certificate's validity, labelled by its name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Bar {
    label: String,
    role: Role,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// The bars: the chosen anchors in output order, then each CA certificate the endpoints send
/// (once, by DER, in endpoint order).
fn bars(bundle: &Bundle) -> Vec<Bar> {
    let mut seen = BTreeSet::new();
    let mut bars = Vec::new();
    let anchors = bundle.anchors().into_iter().map(|anchor| {
        let role = if is_root(&anchor.der) {
            Role::RootAnchor
        } else {
            Role::IntermediateAnchor
        };
        (anchor.der, role)
    });
    let sent = bundle.request.endpoints.iter().flat_map(|endpoint| {
        // The leaf is not the bundle's concern: it renews every few months.
        let skip = usize::from(endpoint.has_leaf);
        endpoint
            .chain
            .iter()
            .skip(skip)
            .map(|der| (der.clone(), Role::SentIntermediate))
    });
    for (der, role) in anchors.collect::<Vec<_>>().into_iter().chain(sent) {
        if !seen.insert(der.clone()) {
            continue;
        }
        if let Some((not_before, not_after)) = coverage::validity(&der) {
            bars.push(Bar {
                label: name(&der),
                role,
                not_before,
                not_after,
            });
        }
    }
    bars
}

/// The timeline as an SVG element, now and the horizon marked.
fn timeline(bundle: &Bundle) -> Markup {
    let (now, horizon) = (bundle.request.now, bundle.request.horizon);
    let year = time::Duration::days(365);
    // A year before now to a year past the horizon.
    let window = Window {
        start: now - year,
        end: horizon + year,
    };
    let bars = bars(bundle);
    let bottom = TOP_MARGIN + ROW_HEIGHT * bars.len() as f64;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(LEFT_MARGIN + PLOT_WIDTH + 20.0)
            height=(bottom + 40.0) font-family="sans-serif" font-size="11" role="img" {
            title { "Validity of each anchor and intermediate, from now to the horizon" }
            @for (row, bar) in bars.iter().enumerate() {
                (bar_markup(bar, TOP_MARGIN + ROW_HEIGHT * row as f64, window))
            }
            @for (label, instant, lift) in [("now", now, 0.0), ("horizon", horizon, 12.0)] {
                @let x = window.x_of(instant);
                line x1=(coordinate(x)) y1=(coordinate(TOP_MARGIN - 6.0 - lift))
                    x2=(coordinate(x)) y2=(coordinate(bottom))
                    stroke="#c0392b" stroke-dasharray="3,2" {}
                text x=(coordinate(x)) y=(coordinate(TOP_MARGIN - 9.0 - lift)) fill="#c0392b"
                    text-anchor="middle" { (label) " " (date(instant)) }
            }
            text x=(LEFT_MARGIN) y=(coordinate(bottom + 14.0)) { (date(window.start)) }
            text x=(coordinate(LEFT_MARGIN + PLOT_WIDTH)) y=(coordinate(bottom + 14.0))
                text-anchor="end" { (date(window.end)) }
            text x=(LEFT_MARGIN) y=(coordinate(bottom + 30.0)) fill="#555" {
                "purple: root anchor · red: intermediate anchor · orange: intermediate sent · "
                "dashed: now and the horizon"
            }
        }
    }
}

/// One certificate's label and bar, at height `y`.
fn bar_markup(bar: &Bar, y: f64, window: Window) -> Markup {
    let (x0, x1) = (window.x_of(bar.not_before), window.x_of(bar.not_after));
    html! {
        text x=(coordinate(LEFT_MARGIN - 6.0)) y=(coordinate(y + 10.0)) text-anchor="end" {
            (bar.label)
        }
        rect x=(coordinate(x0)) y=(coordinate(y + 1.0)) width=(coordinate((x1 - x0).max(1.0)))
            height="12" fill=(bar.role.colour()) {
            title { (bar.label) ": " (date(bar.not_before)) " → " (date(bar.not_after)) }
        }
        // A bar cut by the window says so, rather than pretending the certificate ends there.
        @if bar.not_before < window.start {
            text x=(coordinate(x0 + 1.0)) y=(coordinate(y + 10.0)) { "◀" }
        }
        @if bar.not_after > window.end {
            text x=(coordinate(x1 - 1.0)) y=(coordinate(y + 10.0)) text-anchor="end" { "▶" }
        }
    }
}

/// The page, for a proved bundle.
pub fn render(bundle: &Bundle, proof: &Proof) -> String {
    let request = &bundle.request;
    let manifest = bundle.manifest();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "anchorsmith trust bundle" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Trust bundle" }
                p {
                    "Device verifier " code { (request.verifier) } ", from " (date(request.now))
                    " to the horizon " (date(request.horizon)) ", "
                    (request.min_per_endpoint) " anchor(s) wanted per endpoint. "
                    (bundle.selection.chosen.len()) " anchor(s) chosen from "
                    (request.candidates.len()) " candidate(s) (" (bundle.selection.method)
                    " selection, lower bound " (bundle.selection.lower_bound) ")."
                }
                h2 { "Anchors" }
                table {
                    tr { th { "anchor" } th { "valid until" } th { "from" } th { "why: the endpoints it covers" } }
                    @for anchor in &manifest.anchors {
                        tr {
                            td { (anchor.name) br; small { code { (anchor.sha256) } } }
                            td { (date(anchor.not_after)) }
                            td { (anchor.origin) }
                            td { (anchor.covers.join(", ")) }
                        }
                    }
                }
                h2 { "Coverage per endpoint" }
                table {
                    tr { th { "endpoint" } th { "covered until" } th { "covering anchors in the bundle" } }
                    @for endpoint in &manifest.endpoints {
                        tr {
                            td { (endpoint.host) }
                            @match endpoint.covered_until {
                                Some(until) => td { (date(until)) },
                                None => td.none { "not covered" },
                            }
                            td {
                                @for (i, anchor) in endpoint.anchors.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    (anchor.name) " (until " (date(anchor.not_after)) ")"
                                    @for via in manifest.via.iter().filter(|via| via.endpoint == endpoint.host && via.anchor_sha256 == anchor.sha256) {
                                        " via cross-sign " (via.cross_signs.join(" and ")) ", not sent by the server"
                                    }
                                }
                            }
                        }
                    }
                }
                h2 { "Lints" }
                @if bundle.lints.is_empty() {
                    p { "None." }
                } @else {
                    ul {
                        @for (severity, sentence) in crate::lint::summarized(&bundle.lints) {
                            li class=(severity_class(severity)) {
                                strong { (severity) } ": " (sentence)
                            }
                        }
                    }
                }
                h2 { "Timeline" }
                (timeline(bundle))
                h2 { "Proof" }
                p {
                    (proof.validations) " validations of the covered endpoints against the whole \
                     bundle, at every checkpoint, all accepted: " (proof.validators.join(", ")) "."
                }
                @if let Some(why) = crate::proof::model_only(request.verifier) {
                    p { (why) "." }
                }
                @if !proof.skipped.is_empty() {
                    p { "Not proved here (skipped, not accepted):" }
                    ul {
                        @for skipped in &proof.skipped {
                            li class="warning" { (skipped.sentence()) }
                        }
                    }
                }
            }
        }
    }
    .into_string()
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn positions_are_linear_and_clamped() {
        let window = Window {
            start: datetime!(2020-01-01 0:00 UTC),
            end: datetime!(2022-01-01 0:00 UTC),
        };
        assert_eq!(window.x_of(window.start), LEFT_MARGIN);
        assert_eq!(
            window.x_of(datetime!(2030-01-01 0:00 UTC)),
            LEFT_MARGIN + PLOT_WIDTH
        );
    }

    #[test]
    fn a_bar_escapes_its_label_and_marks_a_cut() {
        let bar = Bar {
            label: "<Root & Co>".into(),
            role: Role::RootAnchor,
            not_before: datetime!(2000-01-01 0:00 UTC),
            not_after: datetime!(2021-01-01 0:00 UTC),
        };
        let window = Window {
            start: datetime!(2020-01-01 0:00 UTC),
            end: datetime!(2022-01-01 0:00 UTC),
        };
        let svg = bar_markup(&bar, 0.0, window).into_string();
        assert!(svg.contains("&lt;Root &amp; Co&gt;"), "{svg}");
        assert!(!svg.contains("<Root"), "{svg}");
        assert!(svg.contains("◀") && !svg.contains("▶"), "{svg}");
    }
}
