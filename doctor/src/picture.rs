//! The trade-off over time: when no single chain serves every target, one row per candidate
//! chain × seat (target and store), green where the target accepts and red where it rejects,
//! across every validity boundary of the certificates in play, with `--at` marked. The intervals
//! are exact and each change proved: this is the compatibility timeline of the corpus
//! (`anchorsmith_corpus::compatibility`), computed for the doctor's seats and candidates, and
//! drawn by its SVG renderer.

use std::time::Duration;

use anchorsmith_corpus::compatibility::{
    render_svg_file, CompatibilityError, Incident, ScenarioTimeline, Subject,
};
use anchorsmith_corpus::Scenario;
use anchorsmith_validators::runner::RunOptions;
use time::OffsetDateTime;

use crate::fix::Candidate;
use crate::verdicts::{input, Panel};

/// The label `--at` carries in the picture.
pub const AT_LABEL: &str = "--at";

/// One subject per candidate × seat, each given what the seat's engine is given for the
/// verdicts (store, cache, AIA), the time replaced by the timeline's.
pub fn subjects(
    scenario: &Scenario,
    panel: &Panel,
    candidates: &[Candidate],
    at: OffsetDateTime,
) -> Vec<Subject> {
    let id_of = |der: &Vec<u8>| {
        cache_label(
            scenario
                .pki
                .certs
                .iter()
                .map(|(id, cert)| (id.as_str(), cert.der.as_slice())),
            der,
        )
    };
    candidates
        .iter()
        .flat_map(|candidate| {
            panel.seats.iter().map(move |seat| Subject {
                label: seat.who.target.clone(),
                chain: candidate.name.clone(),
                store: seat.who.store.clone(),
                cache: seat.cache.iter().map(id_of).collect(),
                validator: seat.engine.clone(),
                input: input(panel, seat, &candidate.chain, at, true),
            })
        })
        .collect()
}

/// How the picture names a cached certificate: its id among `known` (id, DER), else its
/// subject's common name, marked as not the scenario's (a reader must still tell which it is).
fn cache_label<'a>(known: impl IntoIterator<Item = (&'a str, &'a [u8])>, der: &[u8]) -> String {
    known
        .into_iter()
        .find(|(_, known)| *known == der)
        .map(|(id, _)| id.to_string())
        .unwrap_or_else(|| match crate::cert::try_parse(der) {
            Some(cert) => format!("{} (not in the scenario)", crate::cert::cn(&cert)),
            None => "an unparsable certificate (not in the scenario)".to_string(),
        })
}

/// The trade-off timeline of `candidates` for `panel`'s seats, with `at` marked.
pub fn tradeoff_timeline(
    scenario: &Scenario,
    panel: &Panel,
    candidates: &[Candidate],
    at: OffsetDateTime,
) -> Result<ScenarioTimeline, CompatibilityError> {
    let options = RunOptions {
        per_case_timeout: Duration::from_secs(60),
        progress: None,
    };
    let subjects = subjects(scenario, panel, candidates, at);
    let mut timeline = ScenarioTimeline::compute(scenario, &subjects, &options)?;
    mark(&mut timeline.incidents, at);
    Ok(timeline)
}

/// `at` among the incidents, as a validation time named `--at` (on its own second, or joining
/// the incident already there), keeping them sorted.
fn mark(incidents: &mut Vec<Incident>, at: OffsetDateTime) {
    let at = at.replace_nanosecond(0).expect("zero nanoseconds is valid");
    match incidents.binary_search_by_key(&at, |incident| incident.instant) {
        Ok(index) => incidents[index].times.push(AT_LABEL.to_string()),
        Err(index) => incidents.insert(
            index,
            Incident {
                instant: at,
                instants: Vec::new(),
                times: vec![AT_LABEL.to_string()],
            },
        ),
    }
}

/// `tradeoff.svg`: the picture as a standalone SVG file.
pub fn tradeoff_svg(timeline: &ScenarioTimeline) -> String {
    render_svg_file(std::slice::from_ref(timeline))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn incident(instant: OffsetDateTime, time: &str) -> Incident {
        Incident {
            instant,
            instants: Vec::new(),
            times: vec![time.to_string()],
        }
    }

    #[test]
    fn a_cached_certificate_is_named_by_id_else_by_its_name() {
        let p = crate::testpki::healthy();
        let known = [("inter", p.inter.as_slice())];
        assert_eq!(cache_label(known, &p.inter), "inter");
        assert_eq!(cache_label(known, &p.twin), "Twin (not in the scenario)");
        assert_eq!(
            cache_label(known, b"junk"),
            "an unparsable certificate (not in the scenario)"
        );
    }

    #[test]
    fn at_is_marked_in_order_or_joins_its_second() {
        let early = datetime!(2021-01-01 0:00 UTC);
        let late = datetime!(2022-01-01 0:00 UTC);
        let mut incidents = vec![incident(early, "a"), incident(late, "b")];
        mark(&mut incidents, datetime!(2021-10-01 0:00 UTC));
        assert_eq!(incidents[1].times, [AT_LABEL]);
        assert_eq!(incidents[1].instant, datetime!(2021-10-01 0:00 UTC));
        mark(&mut incidents, late);
        assert_eq!(incidents.len(), 3);
        assert_eq!(incidents[2].times, ["b", AT_LABEL]);
    }
}
