//! The parts of the timeline that need no validator: the sweep, merging, proofs' bookkeeping and
//! rendering. The intervals of real validators on a real scenario are tested in
//! `corpus/tests/compatibility.rs`.

use super::*;
use time::macros::datetime;

const SECOND: Duration = Duration::SECOND;

#[test]
fn the_sweep_covers_every_second_once() {
    let a = datetime!(2021-01-20 19:14:03 UTC);
    let b = a + SECOND; // adjacent: no range between a and b
    let c = datetime!(2021-09-30 14:01:15 UTC);
    let sweep = probes(&[a, b, c]);
    // ..a, [a], [b], (b..c), [c], c..
    assert_eq!(sweep.len(), 6, "{sweep:#?}");
    assert_eq!(sweep[0].from, None);
    assert_eq!(sweep.last().unwrap().to, None);
    for pair in sweep.windows(2) {
        assert_eq!(pair[0].to, pair[1].from, "ranges are contiguous");
    }
    for probe in &sweep {
        assert!(probe.from.is_none_or(|from| from <= probe.at));
        assert!(probe.to.is_none_or(|to| probe.at < to), "{probe:?}");
    }
    assert_eq!(sweep[1].at, a);
    assert_eq!(sweep[2].at, b);
    assert_eq!(sweep[3].from, Some(b + SECOND));
    assert_eq!(sweep[3].to, Some(c));
    assert_eq!(sweep[4].at, c);
}

fn reject(kind: RejectKind) -> Verdict {
    Verdict::Reject {
        kind,
        detail: format!("{kind}"),
    }
}

fn accept() -> Verdict {
    Verdict::Accept {
        chain_built: Vec::new(),
    }
}

#[test]
fn equal_neighbours_merge_and_kinds_stay_apart() {
    let a = datetime!(2021-01-20 19:14:03 UTC);
    let c = datetime!(2021-09-30 14:01:15 UTC);
    let sweep = probes(&[a, c]);
    let verdicts = [
        reject(RejectKind::Expired), // ..a
        accept(),                    // [a]
        accept(),                    // (a..c)
        reject(RejectKind::Expired), // [c]: notAfter read as exclusive
        reject(RejectKind::Expired), // c..
    ];
    let intervals = merge(&sweep, &verdicts);
    let shape: Vec<_> = intervals.iter().map(|i| (i.from, i.to, i.status)).collect();
    assert_eq!(
        shape,
        vec![
            (None, Some(a), Status::Reject(RejectKind::Expired)),
            (Some(a), Some(c), Status::Accept),
            (Some(c), None, Status::Reject(RejectKind::Expired)),
        ]
    );
    let other = [
        reject(RejectKind::NotYetValid),
        accept(),
        accept(),
        accept(),
        reject(RejectKind::Expired),
    ];
    let intervals = merge(&sweep, &other);
    assert_eq!(intervals.len(), 3);
    assert_eq!(
        intervals[1].to,
        Some(c + SECOND),
        "notAfter read as inclusive"
    );
}

fn boundary(instant: OffsetDateTime, edge: Edge) -> Boundary {
    Boundary {
        instant,
        certificate: "dst-root".into(),
        edge,
    }
}

#[test]
fn a_proof_holds_only_when_it_shows_the_change_at_a_boundary() {
    let na = datetime!(2021-09-30 14:01:15 UTC);
    let intervals = vec![
        Interval {
            from: None,
            to: Some(na + SECOND),
            status: Status::Accept,
            detail: String::new(),
        },
        Interval {
            from: Some(na + SECOND),
            to: None,
            status: Status::Reject(RejectKind::Expired),
            detail: String::new(),
        },
    ];
    let boundaries = [boundary(na, Edge::NotAfter)];
    let shown = proofs(
        &intervals,
        &boundaries,
        &[accept(), reject(RejectKind::Expired)],
    );
    assert_eq!(shown.len(), 1);
    assert!(shown[0].holds());
    assert_eq!(shown[0].before.at, na);
    assert_eq!(
        shown[0].not_after_reading(&boundaries[0]),
        Some(NotAfterReading::Inclusive)
    );
    let not_shown = proofs(&intervals, &boundaries, &[accept(), accept()]);
    assert!(!not_shown[0].holds());
    // A change no certificate explains is not proved either.
    let unexplained = proofs(&intervals, &[], &[accept(), reject(RejectKind::Expired)]);
    assert!(!unexplained[0].holds());
}

#[test]
fn incident_labels_take_the_lowest_free_line() {
    assert_eq!(
        label_lines(&[300.0, 301.0, 302.0, 600.0, 605.0]),
        vec![0, 1, 2, 0, 1]
    );
}

fn row(label: &str) -> TimelineRow {
    let change = datetime!(2021-09-30 14:01:15 UTC);
    TimelineRow {
        label: label.into(),
        chain: "long-chain".into(),
        store: "old".into(),
        cache: Vec::new(),
        validator: "openssl".into(),
        intervals: vec![
            Interval {
                from: None,
                to: Some(change),
                status: Status::Accept,
                detail: String::new(),
            },
            Interval {
                from: Some(change),
                to: None,
                status: Status::Error,
                detail: "crashed".into(),
            },
        ],
        proofs: Vec::new(),
    }
}

#[test]
fn svg_is_well_formed_escaped_and_coloured() {
    let timeline = ScenarioTimeline {
        scenario: "s<&>".into(),
        incidents: vec![Incident {
            label: "dst-expiry <x>".into(),
            instant: datetime!(2021-09-30 14:01:15 UTC),
            kind: IncidentKind::Instant,
        }],
        rows: vec![row("client <A & B>")],
    };
    let svg = render_svg(&timeline).into_string();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(
        svg.contains("client &lt;A &amp; B&gt; · long-chain · old"),
        "{svg}"
    );
    assert!(svg.contains(">dst-expiry &lt;x&gt;<title>"), "{svg}");
    assert!(!svg.contains("<A"), "{svg}");
    assert!(svg.contains(fill(Status::Accept)) && svg.contains(fill(Status::Error)));
    // Well-formed: every element opened is closed, in order.
    let mut open: Vec<String> = Vec::new();
    let mut rest = svg.as_str();
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("a tag ends") + start;
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name), "in {svg}");
        } else if !tag.ends_with('/') {
            open.push(tag.split_whitespace().next().unwrap().to_string());
        }
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
}

#[test]
fn markdown_lists_intervals_with_dates_and_flags_failed_proofs() {
    let mut failing = row("a|b");
    failing.cache = vec!["le-x3-by-dst".into()];
    let change = datetime!(2021-09-30 14:01:15 UTC);
    failing.proofs.push(Proof {
        at: change,
        boundaries: vec![boundary(change, Edge::NotAfter)],
        before: Check {
            at: change - SECOND,
            expected: Status::Accept,
            measured: Status::Accept,
        },
        after: Check {
            at: change,
            expected: Status::Error,
            measured: Status::Accept,
        },
    });
    let md = render_md(&[ScenarioTimeline {
        scenario: "s".into(),
        incidents: Vec::new(),
        rows: vec![failing],
    }]);
    assert!(
        md.contains("| a\\|b | long-chain | old + cache le-x3-by-dst | … → 2021-09-30 14:01:15 accept · 2021-09-30 14:01:15 → … error |"),
        "{md}"
    );
    assert!(
        md.contains("**PROOF FAILED**: expected accept then error"),
        "{md}"
    );
    assert!(md.contains("invalid on that second (exclusive)"), "{md}");
}
