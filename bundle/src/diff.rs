//! `--diff OLD_MANIFEST`: what a new bundle (or a new candidate store release) changes for each
//! endpoint against a previous `manifest.json`: the anchors it gains or loses, and whether its
//! coverage ends earlier or later. This is what an OTA update must know before it ships.

use std::collections::BTreeSet;

use serde::Deserialize;
use time::OffsetDateTime;

use crate::build::{CoveringAnchor, EndpointCoverage};

/// The part of a previous `manifest.json` the diff reads.
#[derive(Clone, Debug, Deserialize)]
pub struct PreviousManifest {
    pub endpoints: Vec<EndpointCoverage>,
}

/// When an endpoint's coverage ends, before and after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Same,
    Earlier,
    Later,
    /// Covered before, not any more.
    Lost,
    /// Not covered before (or a new endpoint), covered now.
    Gained,
}

/// One endpoint's change, anchors by name (fingerprints decide identity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointChange {
    pub host: String,
    pub gained: Vec<CoveringAnchor>,
    pub lost: Vec<CoveringAnchor>,
    pub old_until: Option<OffsetDateTime>,
    pub new_until: Option<OffsetDateTime>,
    pub end: End,
}

/// Per endpoint (the new ones in order, then those only the old manifest has), what changes.
pub fn diff(old: &[EndpointCoverage], new: &[EndpointCoverage]) -> Vec<EndpointChange> {
    let none = |host: &str| EndpointCoverage {
        host: host.to_string(),
        covered_until: None,
        anchors: Vec::new(),
    };
    let find = |list: &[EndpointCoverage], host: &str| {
        list.iter()
            .find(|e| e.host == host)
            .cloned()
            .unwrap_or_else(|| none(host))
    };
    let mut hosts: Vec<&str> = new.iter().map(|e| e.host.as_str()).collect();
    for endpoint in old {
        if !hosts.contains(&endpoint.host.as_str()) {
            hosts.push(&endpoint.host);
        }
    }
    hosts
        .into_iter()
        .map(|host| change(&find(old, host), &find(new, host)))
        .collect()
}

fn change(old: &EndpointCoverage, new: &EndpointCoverage) -> EndpointChange {
    let prints = |e: &EndpointCoverage| -> BTreeSet<String> {
        e.anchors.iter().map(|a| a.sha256.clone()).collect()
    };
    let (before, after) = (prints(old), prints(new));
    let end = match (old.covered_until, new.covered_until) {
        (Some(_), None) => End::Lost,
        (None, Some(_)) => End::Gained,
        (Some(a), Some(b)) if b < a => End::Earlier,
        (Some(a), Some(b)) if b > a => End::Later,
        _ => End::Same,
    };
    EndpointChange {
        host: new.host.clone(),
        gained: new
            .anchors
            .iter()
            .filter(|a| !before.contains(&a.sha256))
            .cloned()
            .collect(),
        lost: old
            .anchors
            .iter()
            .filter(|a| !after.contains(&a.sha256))
            .cloned()
            .collect(),
        old_until: old.covered_until,
        new_until: new.covered_until,
        end,
    }
}

fn date(at: Option<OffsetDateTime>) -> String {
    at.map_or("never".to_string(), |at| {
        format!(
            "{:04}-{:02}-{:02}",
            at.year(),
            u8::from(at.month()),
            at.day()
        )
    })
}

fn names(anchors: &[CoveringAnchor]) -> String {
    anchors
        .iter()
        .map(|a| format!("{} (valid until {})", a.name, date(Some(a.not_after))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `diff.md`: one section per endpoint, a line per change.
pub fn markdown(old_file: &str, changes: &[EndpointChange]) -> String {
    let mut out = format!("# Bundle changes against {old_file}\n\n");
    for change in changes {
        out += &format!("## {}\n\n", change.host);
        if !change.gained.is_empty() {
            out += &format!("- gains: {}\n", names(&change.gained));
        }
        if !change.lost.is_empty() {
            out += &format!("- loses: {}\n", names(&change.lost));
        }
        let (old, new) = (date(change.old_until), date(change.new_until));
        out += &match change.end {
            End::Same => format!("- coverage ends as before: {new}\n"),
            End::Earlier => format!("- coverage ends earlier: {old} → {new}\n"),
            End::Later => format!("- coverage ends later: {old} → {new}\n"),
            End::Lost => format!("- coverage lost: covered until {old} before, not at all now\n"),
            End::Gained => format!("- coverage gained: not covered before, covered until {new}\n"),
        };
        out += "\n";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn anchor(name: &str) -> CoveringAnchor {
        CoveringAnchor {
            name: name.into(),
            sha256: format!("{name}-print"),
            not_after: datetime!(2035-06-04 11:04:38 UTC),
        }
    }

    fn endpoint(host: &str, until: Option<OffsetDateTime>, anchors: &[&str]) -> EndpointCoverage {
        EndpointCoverage {
            host: host.into(),
            covered_until: until,
            anchors: anchors.iter().map(|a| anchor(a)).collect(),
        }
    }

    #[test]
    fn gains_losses_and_ends() {
        let (early, late) = (
            Some(datetime!(2030-01-01 0:00 UTC)),
            Some(datetime!(2040-01-01 0:00 UTC)),
        );
        let old = [
            endpoint("a", late, &["X1", "X2"]),
            endpoint("b", early, &["X1"]),
            endpoint("gone", late, &["X1"]),
        ];
        let new = [
            endpoint("a", early, &["X1", "YR"]),
            endpoint("b", late, &["X1"]),
        ];
        let changes = diff(&old, &new);
        assert_eq!(changes.len(), 3);
        assert_eq!(changes[0].gained, vec![anchor("YR")]);
        assert_eq!(changes[0].lost, vec![anchor("X2")]);
        assert_eq!(changes[0].end, End::Earlier);
        assert_eq!(changes[1].end, End::Later);
        assert!(changes[1].gained.is_empty() && changes[1].lost.is_empty());
        assert_eq!(changes[2].host, "gone");
        assert_eq!(changes[2].end, End::Lost);
        let text = markdown("old.json", &changes);
        assert!(
            text.contains("- loses: X2 (valid until 2035-06-04)"),
            "{text}"
        );
        assert!(
            text.contains("- coverage ends earlier: 2040-01-01 → 2030-01-01"),
            "{text}"
        );
    }
}
