//! A picture of a scenario over time: one bar per certificate (its validity), and a vertical
//! line at each validation time the cases use. Most of these incidents are about *when*: a root
//! expires, a cross-sign outlives its issuer, a leaf renews onto a new intermediate. A timeline
//! shows that at a glance where a table of dates does not.
//!
//! The output is a self-contained SVG string (no scripts, no fonts to fetch), embedded in
//! `report.html`.

use std::fmt::Write as _;

use time::OffsetDateTime;

use crate::report::escape;
use crate::Scenario;

const LEFT_MARGIN: f64 = 230.0;
const PLOT_WIDTH: f64 = 620.0;
const ROW_HEIGHT: f64 = 18.0;
const TOP_MARGIN: f64 = 36.0;

/// The window shown: a year around the validation times, widened to include every certificate
/// that starts or ends close to them, so 35-year roots do not squash the interesting part.
fn window(scenario: &Scenario) -> (OffsetDateTime, OffsetDateTime) {
    let year = time::Duration::days(365);
    let times: Vec<OffsetDateTime> = scenario
        .times
        .values()
        .map(|(_, instant)| *instant)
        .collect();
    let first = times
        .iter()
        .min()
        .copied()
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let last = times
        .iter()
        .max()
        .copied()
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (mut start, mut end) = (first - year, last + year);
    for facts in scenario.pki.facts().values() {
        for edge in [facts.not_before, facts.not_after] {
            if edge > first - 3 * year && edge < start {
                start = edge;
            }
            if edge < last + 3 * year && edge > end {
                end = edge;
            }
        }
    }
    (start, end)
}

fn x_of(instant: OffsetDateTime, (start, end): (OffsetDateTime, OffsetDateTime)) -> f64 {
    let span = (end - start).as_seconds_f64().max(1.0);
    let offset = (instant - start).as_seconds_f64().clamp(0.0, span);
    LEFT_MARGIN + PLOT_WIDTH * offset / span
}

fn date(instant: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        instant.year(),
        u8::from(instant.month()),
        instant.day()
    )
}

/// Renders the scenario's timeline as SVG.
pub fn render_svg(scenario: &Scenario) -> String {
    let window = window(scenario);
    let pki = &scenario.pki;
    let rows = pki.order.len();
    let height = TOP_MARGIN + ROW_HEIGHT * rows as f64 + 40.0;
    let width = LEFT_MARGIN + PLOT_WIDTH + 20.0;
    let mut svg = String::new();
    write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">\n\
<title>Validity of each certificate of {} and the validation times of its cases</title>\n",
        escape(&scenario.name)
    )
    .unwrap();
    for (row, id) in pki.order.iter().enumerate() {
        let facts = &pki.facts()[id];
        let y = TOP_MARGIN + ROW_HEIGHT * row as f64;
        let (x0, x1) = (
            x_of(facts.not_before, window),
            x_of(facts.not_after, window),
        );
        let colour = if !facts.is_ca {
            "#7fb3d5"
        } else if facts.subject == facts.issuer_subject {
            "#c39bd3"
        } else {
            "#f0b27a"
        };
        write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"12\" fill=\"{colour}\"><title>{}: {} → {}</title></rect>\n",
            LEFT_MARGIN - 6.0,
            y + 10.0,
            escape(id),
            y + 1.0,
            (x1 - x0).max(1.0),
            escape(&facts.subject),
            date(facts.not_before),
            date(facts.not_after)
        )
        .unwrap();
        // A bar cut by the window says so, rather than pretending the certificate ends there.
        if facts.not_before < window.0 {
            write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\">◀</text>",
                x0 + 1.0,
                y + 10.0
            )
            .unwrap();
        }
        if facts.not_after > window.1 {
            write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">▶</text>",
                x1 - 1.0,
                y + 10.0
            )
            .unwrap();
        }
    }
    let bottom = TOP_MARGIN + ROW_HEIGHT * rows as f64;
    // Labels of validation times that are close together (a day apart, say) go on alternate
    // lines so they stay readable.
    let mut times: Vec<(&String, OffsetDateTime)> = scenario
        .times
        .iter()
        .map(|(label, (_, instant))| (label, *instant))
        .collect();
    times.sort_by_key(|(_, instant)| *instant);
    let mut previous_x = f64::NEG_INFINITY;
    let mut level = 0;
    for (label, instant) in times {
        let x = x_of(instant, window);
        level = if x - previous_x < 80.0 { 1 - level } else { 0 };
        previous_x = x;
        write!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#c0392b\" stroke-dasharray=\"3,2\"/>\
<text x=\"{x:.1}\" y=\"{:.1}\" fill=\"#c0392b\" text-anchor=\"middle\">{}</text>\n",
            TOP_MARGIN - 6.0 - 12.0 * level as f64,
            bottom,
            TOP_MARGIN - 9.0 - 12.0 * level as f64,
            escape(label)
        )
        .unwrap();
    }
    write!(
        svg,
        "<text x=\"{LEFT_MARGIN}\" y=\"{:.1}\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n\
<text x=\"{LEFT_MARGIN}\" y=\"{:.1}\" fill=\"#555\">purple: self-signed root · orange: intermediate or cross-sign · blue: leaf · red: validation times</text>\n</svg>",
        bottom + 14.0,
        date(window.0),
        LEFT_MARGIN + PLOT_WIDTH,
        bottom + 14.0,
        date(window.1),
        bottom + 30.0
    )
    .unwrap();
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn positions_are_linear_and_clamped() {
        let window = (
            datetime!(2020-01-01 0:00 UTC),
            datetime!(2022-01-01 0:00 UTC),
        );
        assert_eq!(x_of(window.0, window), LEFT_MARGIN);
        assert_eq!(x_of(window.1, window), LEFT_MARGIN + PLOT_WIDTH);
        assert_eq!(x_of(datetime!(1999-01-01 0:00 UTC), window), LEFT_MARGIN);
        let middle = x_of(datetime!(2021-01-01 0:00 UTC), window);
        assert!(
            (middle - (LEFT_MARGIN + PLOT_WIDTH / 2.0)).abs() < 1.0,
            "{middle}"
        );
    }
}
