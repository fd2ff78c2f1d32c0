//! The parts of the timeline below `compute`: the sweep, the search (through real validators),
//! interval building, placing changes, proofs' bookkeeping and rendering. Whole timelines of real
//! validators on real scenarios are tested in `corpus/tests/compatibility.rs`.

use std::path::Path;
use std::sync::OnceLock;

use super::*;
use anchorsmith_validators::harnesses::{builtin_columns, in_ci, HarnessColumn, SetupMode};
use anchorsmith_validators::in_process_validators;
use time::macros::datetime;

use crate::{load_corpus, Corpus};

const SECOND: Duration = Duration::SECOND;

#[test]
fn the_sweep_probes_each_boundary_a_day_either_side_and_between() {
    let a = datetime!(2021-01-20 19:14:03 UTC);
    let b = a + SECOND; // adjacent: nothing between a and b
    let c = datetime!(2021-09-30 14:01:15 UTC);
    let sweep = probes(&[a, b, c], a);
    // Nothing before the chain is served (so not a - 1 day); each boundary and a day either
    // side; a day after the last (the unbounded end); the middle of every range between.
    let day = Duration::DAY;
    let points = [a, b, a + day, b + day, c - day, c, c + day, c + day + day];
    let mut expected: Vec<OffsetDateTime> = points
        .windows(2)
        .filter_map(|pair| middle(pair[0], pair[1]))
        .chain(points)
        .collect();
    expected.sort();
    assert_eq!(sweep, expected);
    assert_eq!(middle(a, b), None);
    assert_eq!(middle(a, a + SECOND * 2), Some(a + SECOND));
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
fn intervals_start_not_served_and_merge_equal_neighbours() {
    let served = datetime!(2021-01-20 19:14:03 UTC);
    let c = datetime!(2021-09-30 14:01:15 UTC);
    let samples = [
        (served, reject(RejectKind::NotYetValid)),
        (served + SECOND, accept()),
        (served + Duration::DAY, accept()),
        (c - SECOND, accept()),
        (c, reject(RejectKind::Expired)),
        (c + Duration::DAY, reject(RejectKind::Expired)),
    ];
    let intervals = intervals(served, &samples);
    let shape: Vec<_> = intervals.iter().map(|i| (i.from, i.to, i.status)).collect();
    assert_eq!(
        shape,
        vec![
            (None, Some(served), Status::NotServed),
            (
                Some(served),
                Some(served + SECOND),
                Status::Reject(RejectKind::NotYetValid)
            ),
            (Some(served + SECOND), Some(c), Status::Accept),
            (Some(c), None, Status::Reject(RejectKind::Expired)),
        ]
    );
    assert_eq!(intervals[3].detail, "expired");
    // Only the validator's changes are proved, not the start of serving.
    let validated: Vec<_> = validated_changes(&intervals).collect();
    assert_eq!(validated, vec![served + SECOND, c]);
    assert_eq!(row_changes(&intervals).count(), 3);
}

fn boundary(certificate: &str, instant: OffsetDateTime, edge: Edge) -> Boundary {
    Boundary {
        instant,
        certificate: certificate.into(),
        edge,
    }
}

#[test]
fn a_change_is_placed_on_its_boundaries_or_by_its_offset_from_the_nearest() {
    let nb = datetime!(2016-06-20 08:00:00 UTC);
    let na = datetime!(2016-09-18 08:00:00 UTC);
    let boundaries = [
        boundary("leaf", nb, Edge::NotBefore),
        boundary("leaf", na, Edge::NotAfter),
    ];
    assert_eq!(
        place(nb, &boundaries),
        Place::Boundaries(vec![boundaries[0].clone()])
    );
    // A notAfter read as inclusive: the change is the second after it.
    let inclusive = place(na + SECOND, &boundaries);
    assert_eq!(inclusive, Place::Boundaries(vec![boundaries[1].clone()]));
    // A grace period of a day before the notBefore.
    assert_eq!(
        place(nb - Duration::DAY, &boundaries),
        Place::OffBoundary {
            nearest: boundaries[0].clone(),
            offset_seconds: -86_400
        }
    );
    assert_eq!(
        place(na + Duration::seconds(2), &boundaries),
        Place::OffBoundary {
            nearest: boundaries[1].clone(),
            offset_seconds: 2
        }
    );
}

#[test]
fn a_proof_holds_only_when_both_answers_are_measured_and_differ() {
    let at = datetime!(2021-09-30 14:01:15 UTC);
    let check = |at, expected, measured| Check {
        at,
        expected,
        measured,
    };
    let expired = Status::Reject(RejectKind::Expired);
    let shown = Proof {
        before: check(at - SECOND, Status::Accept, Status::Accept),
        after: check(at, expired, expired),
    };
    assert!(shown.holds());
    let not_shown = Proof {
        before: check(at - SECOND, Status::Accept, Status::Accept),
        after: check(at, expired, Status::Accept),
    };
    assert!(!not_shown.holds());
    // Measured as expected, but no change: the intervals were wrong to split there.
    let no_change = Proof {
        before: check(at - SECOND, Status::Accept, Status::Accept),
        after: check(at, Status::Accept, Status::Accept),
    };
    assert!(!no_change.holds());
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        load_corpus(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// The subject of `validator` on root-expiry-long-short's short chain with the new store: the
/// leaf alone bounds when it works.
fn short_chain_subject(validator: Arc<dyn Validator>) -> (Subject, OffsetDateTime, OffsetDateTime) {
    let scenario = corpus()
        .scenarios
        .iter()
        .find(|scenario| scenario.name == "root-expiry-long-short")
        .expect("the scenario exists");
    let subject = subjects_for_validators(scenario, &corpus().cases, &[validator])
        .into_iter()
        .find(|subject| subject.chain == "short-chain" && subject.store == "new")
        .expect("the short chain with the new store is a subject");
    let leaf = &scenario.pki.facts()["leaf"];
    (subject, leaf.not_before, leaf.not_after)
}

/// The exact seconds where the answer changes between two probes, found by the search.
fn found_changes(subject: Subject, probes: Vec<OffsetDateTime>) -> Vec<OffsetDateTime> {
    let from = probes[0];
    let samples = search(&[subject], vec![probes], &RunOptions::default());
    validated_changes(&intervals(from, &samples[0])).collect()
}

#[test]
fn the_search_finds_the_exact_notafter_second_of_real_validators_from_far_probes() {
    for (name, reading) in [
        ("openssl", NotAfterReading::Exclusive),
        ("rustls-webpki", NotAfterReading::Inclusive),
    ] {
        let validator = in_process_validators()
            .into_iter()
            .find(|validator| validator.name() == name)
            .expect("the validator is built in");
        let (subject, not_before, not_after) = short_chain_subject(validator);
        // Two probes 40 days apart, neither on a boundary: only the search can find the second.
        let probes = vec![
            not_before + Duration::days(3),
            not_after + Duration::days(37),
        ];
        let found = found_changes(subject, probes);
        let expected = match reading {
            NotAfterReading::Exclusive => not_after,
            NotAfterReading::Inclusive => not_after + SECOND,
        };
        assert_eq!(found, vec![expected], "{name}");
    }
}

/// NSS accepts a leaf up to a day before its notBefore (its "pending slop"): the search finds
/// that change off every boundary, and it is placed a day before the leaf's notBefore.
#[test]
fn the_search_finds_nss_accepting_a_leaf_a_day_before_its_not_before() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("corpus/ is inside the workspace");
    let columns = builtin_columns(
        &["nss-pkix".to_string()],
        std::time::Duration::from_secs(30),
        SetupMode::Install,
        &workspace.join("target").join("harnesses"),
        &|line| eprintln!("  {line}"),
    )
    .expect("the harness manifests load");
    let nss = match columns
        .into_iter()
        .find(|column| column.name() == "nss-pkix")
    {
        Some(column @ HarnessColumn::Ready(_)) => column.into_validator(),
        Some(HarnessColumn::Unavailable(missing)) => {
            assert!(!in_ci(), "nss-pkix missing under CI: {missing:?}");
            eprintln!("not checking NSS: {missing:?}");
            return;
        }
        None => panic!("no nss-pkix column"),
    };
    let (subject, not_before, _) = short_chain_subject(nss);
    let boundaries = [boundary("leaf", not_before, Edge::NotBefore)];
    let found = found_changes(
        subject,
        vec![
            not_before - Duration::days(10),
            not_before + Duration::days(10),
        ],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        place(found[0], &boundaries),
        Place::OffBoundary {
            nearest: boundaries[0].clone(),
            offset_seconds: -86_400
        }
    );
}

#[test]
fn incident_labels_take_the_lowest_free_line() {
    let labels = |xs: &[(f64, &str)]| -> Vec<(f64, String)> {
        xs.iter().map(|(x, text)| (*x, text.to_string())).collect()
    };
    // Ten characters are about 60 px wide.
    assert_eq!(
        label_lines(&labels(&[
            (300.0, "0123456789"),
            (301.0, "0123456789"),
            (302.0, "0123456789"),
            (600.0, "0123456789"),
            (605.0, "0123456789"),
        ])),
        vec![0, 1, 2, 0, 1]
    );
    // A long label pushes a neighbour that a short one would leave alone.
    let short = labels(&[(300.0, "dst-expiry"), (380.0, "at-x")]);
    assert_eq!(label_lines(&short), vec![0, 0]);
    let long = labels(&[(300.0, "webkit-bug-filed / at-2020-12-15"), (380.0, "at-x")]);
    assert_eq!(label_lines(&long), vec![0, 1]);
}

fn row(label: &str) -> TimelineRow {
    let served = datetime!(2021-08-31 14:01:15 UTC);
    let change = datetime!(2021-09-30 14:01:15 UTC);
    TimelineRow {
        label: label.into(),
        chain: "long-chain".into(),
        store: "old".into(),
        cache: Vec::new(),
        validator: "openssl".into(),
        served_from: boundary("leaf", served, Edge::NotBefore),
        intervals: vec![
            Interval {
                from: None,
                to: Some(served),
                status: Status::NotServed,
                detail: String::new(),
            },
            Interval {
                from: Some(served),
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
        changes: Vec::new(),
    }
}

/// The change of [`row`], measured as `measured` on its first second.
fn change(place: Place, measured: Status) -> Change {
    let at = datetime!(2021-09-30 14:01:15 UTC);
    Change {
        at,
        place,
        proof: Proof {
            before: Check {
                at: at - SECOND,
                expected: Status::Accept,
                measured: Status::Accept,
            },
            after: Check {
                at,
                expected: Status::Error,
                measured,
            },
        },
    }
}

fn assert_well_formed(svg: &str) {
    // Every element opened is closed, in order.
    let mut open: Vec<String> = Vec::new();
    let mut rest = svg;
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
fn svg_is_well_formed_escaped_coloured_and_marks_unproved_rows() {
    let at = datetime!(2021-09-30 14:01:15 UTC);
    let mut unproved = row("client <A & B>");
    unproved.changes.push(change(
        Place::Boundaries(vec![boundary("dst-root", at, Edge::NotAfter)]),
        Status::Accept,
    ));
    let mut proved = row("proved");
    proved.changes.push(change(
        Place::Boundaries(vec![boundary("dst-root", at, Edge::NotAfter)]),
        Status::Error,
    ));
    let timeline = ScenarioTimeline {
        scenario: "s<&>".into(),
        incidents: vec![Incident {
            instant: at,
            instants: vec!["dst-expiry <x>".into()],
            times: vec!["at-dst-expiry".into()],
        }],
        rows: vec![unproved, proved],
    };
    let svg = render_svg(&timeline).into_string();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(
        svg.contains("client &lt;A &amp; B&gt; · long-chain · old<tspan"),
        "{svg}"
    );
    assert!(svg.contains(" ⚠ unproved<title>proof failed: client &lt;A &amp; B&gt; long-chain / store old at 2021-09-30 14:01:15: expected accept then error, measured accept then accept</title>"), "{svg}");
    assert_eq!(svg.matches("⚠ unproved").count(), 1, "only the failing row");
    // One line, both names, drawn solid (something happened then).
    assert!(
        svg.contains(">dst-expiry &lt;x&gt; / at-dst-expiry<title>"),
        "{svg}"
    );
    assert!(!svg.contains("stroke-dasharray"), "{svg}");
    assert!(!svg.contains("<A"), "{svg}");
    for status in [Status::Accept, Status::Error, Status::NotServed] {
        assert!(svg.contains(fill(status)), "{status}: {svg}");
    }
    assert!(svg.contains("not served yet"), "the legend: {svg}");
    assert_well_formed(&svg);
}

#[test]
fn markdown_lists_intervals_quirks_serving_and_flags_failed_proofs() {
    let at = datetime!(2021-09-30 14:01:15 UTC);
    let mut failing = row("a|b");
    failing.cache = vec!["le-x3-by-dst".into()];
    failing.changes.push(change(
        Place::Boundaries(vec![boundary("dst-root", at, Edge::NotAfter)]),
        Status::Accept,
    ));
    let mut quirk = row("nss");
    quirk.changes.push(change(
        Place::OffBoundary {
            nearest: boundary("leaf", at + Duration::DAY, Edge::NotBefore),
            offset_seconds: -86_400,
        },
        Status::Error,
    ));
    let timeline = ScenarioTimeline {
        scenario: "s".into(),
        incidents: vec![Incident {
            instant: at,
            instants: vec!["dst-expiry".into()],
            times: vec!["at-dst-expiry".into()],
        }],
        rows: vec![failing, quirk],
    };
    // What `cargo xtask corpus` warns about and `cargo xtask timeline` fails on: only the
    // failed proof, not the quirk.
    assert_eq!(
        timeline.failures(),
        vec![
            "s: a|b long-chain / store old + cache le-x3-by-dst at 2021-09-30 14:01:15: \
expected accept then error, measured accept then accept"
        ]
    );
    let md = render_md(&[timeline]);
    assert!(
        md.contains("| a\\|b | long-chain | old + cache le-x3-by-dst | … → 2021-08-31 14:01:15 not served · 2021-08-31 14:01:15 → 2021-09-30 14:01:15 accept · 2021-09-30 14:01:15 → … error |"),
        "{md}"
    );
    assert!(
        md.contains("Incident dates: `dst-expiry / at-dst-expiry` 2021-09-30 14:01:15."),
        "{md}"
    );
    assert!(
        md.contains("**PROOF FAILED**: expected accept then error"),
        "{md}"
    );
    assert!(md.contains("invalid on that second (exclusive)"), "{md}");
    assert!(
        md.contains("(not at a certificate boundary: 86400 s before leaf notBefore (an engine quirk)): proved"),
        "{md}"
    );
    assert!(
        md.contains("Changes not at a certificate boundary (engine quirks):\n\n- `nss`"),
        "{md}"
    );
    assert!(
        md.contains("- `a|b` long-chain / store old + cache le-x3-by-dst: leaf notBefore 2021-08-31 14:01:15"),
        "{md}"
    );
}
