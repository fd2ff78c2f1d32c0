//! The time axis every anchorsmith picture shares (the corpus's certificate and compatibility
//! timelines, the bundle report's expiry timeline): one plot geometry, one mapping from an
//! instant to an x coordinate, one way to write dates and coordinates. Kept apart so the
//! pictures look alike and the bundle builder does not depend on the corpus.

use time::OffsetDateTime;

/// Width of the label column left of the plot, in pixels.
pub const LEFT_MARGIN: f64 = 230.0;
/// Width of the plot, in pixels.
pub const PLOT_WIDTH: f64 = 620.0;
/// Height of one row (one bar), in pixels.
pub const ROW_HEIGHT: f64 = 18.0;
/// Room above the first row for the labels of the vertical lines, in pixels.
pub const TOP_MARGIN: f64 = 36.0;

/// The interval drawn, from `start` to `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

impl Window {
    /// A year around `instants`, widened to include each of `edges` that lies within three
    /// years of them, so 35-year roots do not squash the interesting part.
    pub fn around(
        instants: impl Iterator<Item = OffsetDateTime> + Clone,
        edges: impl Iterator<Item = OffsetDateTime>,
    ) -> Window {
        let year = time::Duration::days(365);
        let first = instants.clone().min().unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let last = instants.max().unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let (mut start, mut end) = (first - year, last + year);
        for edge in edges {
            if edge > first - 3 * year && edge < start {
                start = edge;
            }
            if edge < last + 3 * year && edge > end {
                end = edge;
            }
        }
        Window { start, end }
    }

    /// The x coordinate of `instant`, clamped to the plot.
    pub fn x_of(self, instant: OffsetDateTime) -> f64 {
        let span = (self.end - self.start).as_seconds_f64().max(1.0);
        let offset = (instant - self.start).as_seconds_f64().clamp(0.0, span);
        LEFT_MARGIN + PLOT_WIDTH * offset / span
    }
}

/// `2021-09-30`.
pub fn date(instant: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        instant.year(),
        u8::from(instant.month()),
        instant.day()
    )
}

/// A coordinate as SVG writes it: one decimal is finer than a pixel.
pub fn coordinate(value: f64) -> String {
    format!("{value:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn instants_map_onto_the_plot_and_are_clamped() {
        let window = Window {
            start: datetime!(2020-01-01 0:00 UTC),
            end: datetime!(2022-01-01 0:00 UTC),
        };
        assert_eq!(window.x_of(window.start), LEFT_MARGIN);
        assert_eq!(window.x_of(window.end), LEFT_MARGIN + PLOT_WIDTH);
        assert_eq!(window.x_of(datetime!(1999-01-01 0:00 UTC)), LEFT_MARGIN);
        assert_eq!(date(datetime!(2021-09-30 14:01:15 UTC)), "2021-09-30");
        assert_eq!(coordinate(1.25), "1.2");
    }

    #[test]
    fn a_window_is_a_year_around_the_instants_widened_to_near_edges_only() {
        let at = datetime!(2021-10-01 0:00 UTC);
        let near = datetime!(2019-06-01 0:00 UTC);
        let far = datetime!(2000-01-01 0:00 UTC);
        let window = Window::around([at].into_iter(), [near, far].into_iter());
        assert_eq!(window.start, near);
        assert_eq!(window.end, at + time::Duration::days(365));
    }
}
