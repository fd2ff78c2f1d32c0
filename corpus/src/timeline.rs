//! A picture of a scenario over time: one bar per certificate (its validity), and a vertical
//! line at each validation time the cases use. Most of these incidents are about *when*: a root
//! expires, a cross-sign outlives its issuer, a leaf renews onto a new intermediate. A timeline
//! shows that at a glance where a table of dates does not.
//!
//! [`Timeline::of`] takes what it needs from a [`Scenario`]; [`render_svg`] draws it as
//! self-contained SVG markup (no scripts, no fonts to fetch) that `report.html` embeds. Markup is
//! built with maud, so every label is escaped by construction. This module knows nothing of the
//! report: the report uses it, never the other way round.

use maud::{html, Markup};
use time::OffsetDateTime;

use crate::Scenario;
pub(crate) use anchorsmith_timeaxis::{
    coordinate, date, Window, LEFT_MARGIN, PLOT_WIDTH, ROW_HEIGHT, TOP_MARGIN,
};

/// Time labels closer than this (in pixels) go on alternate lines so they stay readable.
const LABEL_SPACING: f64 = 80.0;

/// What a certificate is, which decides the colour of its bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertRole {
    /// Self-signed CA.
    Root,
    /// A CA issued by another: an intermediate or a cross-sign.
    Intermediate,
    Leaf,
}

/// One certificate's validity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    pub id: String,
    pub subject: String,
    pub role: CertRole,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// One validation time the cases use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationTime {
    pub label: String,
    pub instant: OffsetDateTime,
}

/// Everything a timeline shows of one scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    pub scenario: String,
    /// In the topology's declaration order.
    pub bars: Vec<Bar>,
    /// Sorted by instant.
    pub times: Vec<ValidationTime>,
}

impl Timeline {
    /// The certificates (from the topology's facts) and the validation times of `scenario`.
    pub fn of(scenario: &Scenario) -> Timeline {
        let facts = scenario.pki.facts();
        let bars = scenario
            .pki
            .order
            .iter()
            .map(|id| {
                let cert = &facts[id];
                let role = if !cert.is_ca {
                    CertRole::Leaf
                } else if cert.subject == cert.issuer_subject {
                    CertRole::Root
                } else {
                    CertRole::Intermediate
                };
                Bar {
                    id: id.clone(),
                    subject: cert.subject.clone(),
                    role,
                    not_before: cert.not_before,
                    not_after: cert.not_after,
                }
            })
            .collect();
        let mut times: Vec<ValidationTime> = scenario
            .times
            .iter()
            .map(|(label, (_, instant))| ValidationTime {
                label: label.clone(),
                instant: *instant,
            })
            .collect();
        times.sort_by_key(|time| time.instant);
        Timeline {
            scenario: scenario.name.clone(),
            bars,
            times,
        }
    }
}

/// A year around the validation times, widened to include every certificate that starts or ends
/// close to them, so 35-year roots do not squash the interesting part.
fn window_of(timeline: &Timeline) -> Window {
    Window::around(
        timeline.times.iter().map(|time| time.instant),
        timeline
            .bars
            .iter()
            .flat_map(|bar| [bar.not_before, bar.not_after]),
    )
}

fn colour(role: CertRole) -> &'static str {
    match role {
        CertRole::Root => "#c39bd3",
        CertRole::Intermediate => "#f0b27a",
        CertRole::Leaf => "#7fb3d5",
    }
}

/// The line (0 or 1) of each time label: a label close to the previous one goes on the other
/// line.
pub(crate) fn label_levels(xs: &[f64]) -> Vec<u8> {
    let mut previous = f64::NEG_INFINITY;
    let mut level = 0;
    xs.iter()
        .map(|&x| {
            level = if x - previous < LABEL_SPACING {
                1 - level
            } else {
                0
            };
            previous = x;
            level
        })
        .collect()
}

/// Renders `timeline` as an SVG element.
pub fn render_svg(timeline: &Timeline) -> Markup {
    let window = window_of(timeline);
    let bottom = TOP_MARGIN + ROW_HEIGHT * timeline.bars.len() as f64;
    let xs: Vec<f64> = timeline
        .times
        .iter()
        .map(|time| window.x_of(time.instant))
        .collect();
    let levels = label_levels(&xs);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(LEFT_MARGIN + PLOT_WIDTH + 20.0)
            height=(bottom + 40.0) font-family="sans-serif" font-size="11" role="img" {
            title {
                "Validity of each certificate of " (timeline.scenario)
                " and the validation times of its cases"
            }
            @for (row, bar) in timeline.bars.iter().enumerate() {
                (bar_markup(bar, TOP_MARGIN + ROW_HEIGHT * row as f64, window))
            }
            @for ((time, x), level) in timeline.times.iter().zip(&xs).zip(&levels) {
                @let lift = 12.0 * f64::from(*level);
                line x1=(coordinate(*x)) y1=(coordinate(TOP_MARGIN - 6.0 - lift))
                    x2=(coordinate(*x)) y2=(coordinate(bottom))
                    stroke="#c0392b" stroke-dasharray="3,2" {}
                text x=(coordinate(*x)) y=(coordinate(TOP_MARGIN - 9.0 - lift)) fill="#c0392b"
                    text-anchor="middle" { (time.label) }
            }
            text x=(LEFT_MARGIN) y=(coordinate(bottom + 14.0)) { (date(window.start)) }
            text x=(coordinate(LEFT_MARGIN + PLOT_WIDTH)) y=(coordinate(bottom + 14.0))
                text-anchor="end" { (date(window.end)) }
            text x=(LEFT_MARGIN) y=(coordinate(bottom + 30.0)) fill="#555" {
                "purple: self-signed root · orange: intermediate or cross-sign · blue: leaf · "
                "red: validation times"
            }
        }
    }
}

/// One certificate's label and bar, at height `y`.
fn bar_markup(bar: &Bar, y: f64, window: Window) -> Markup {
    let (x0, x1) = (window.x_of(bar.not_before), window.x_of(bar.not_after));
    html! {
        text x=(coordinate(LEFT_MARGIN - 6.0)) y=(coordinate(y + 10.0)) text-anchor="end" {
            (bar.id)
        }
        rect x=(coordinate(x0)) y=(coordinate(y + 1.0)) width=(coordinate((x1 - x0).max(1.0)))
            height="12" fill=(colour(bar.role)) {
            title { (bar.subject) ": " (date(bar.not_before)) " → " (date(bar.not_after)) }
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
        assert_eq!(window.x_of(window.end), LEFT_MARGIN + PLOT_WIDTH);
        assert_eq!(window.x_of(datetime!(1999-01-01 0:00 UTC)), LEFT_MARGIN);
        let middle = window.x_of(datetime!(2021-01-01 0:00 UTC));
        assert!(
            (middle - (LEFT_MARGIN + PLOT_WIDTH / 2.0)).abs() < 1.0,
            "{middle}"
        );
    }

    #[test]
    fn close_labels_alternate_lines() {
        assert_eq!(
            label_levels(&[300.0, 310.0, 320.0, 600.0]),
            vec![0, 1, 0, 0]
        );
    }

    fn timeline(subject: &str) -> Timeline {
        Timeline {
            scenario: "s".into(),
            bars: vec![Bar {
                id: "root".into(),
                subject: subject.into(),
                role: CertRole::Root,
                not_before: datetime!(2000-01-01 0:00 UTC),
                not_after: datetime!(2021-09-30 0:00 UTC),
            }],
            times: vec![ValidationTime {
                label: "at-2021-10-01".into(),
                instant: datetime!(2021-10-01 0:00 UTC),
            }],
        }
    }

    #[test]
    fn svg_escapes_labels_and_marks_a_cut_bar() {
        let svg = render_svg(&timeline("CN=<Root & Co>")).into_string();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("CN=&lt;Root &amp; Co&gt;: 2000-01-01 → 2021-09-30"));
        assert!(!svg.contains("<Root"));
        // The root starts long before the window: its bar is cut on the left.
        assert!(svg.contains("◀"), "{svg}");
        assert!(!svg.contains("▶"), "{svg}");
        assert!(svg.contains(">at-2021-10-01</text>"), "{svg}");
    }
}
