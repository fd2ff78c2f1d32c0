//! Selection: the fewest anchors such that every endpoint has `min_per_endpoint` covering
//! anchors (or all it has, when it has fewer). A multi-cover set-cover problem: solved exactly by
//! trying every set of each size from the lower bound up while the useful candidates are few,
//! greedily otherwise, and always reported with the method and the lower bound.

use serde::Serialize;

/// How the set was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Method {
    /// Every set of each size from the lower bound up: the result is minimum.
    Exact,
    /// Repeatedly the anchor that meets the most unmet demand: may exceed the minimum.
    Greedy,
}

/// Above this many useful candidates, the exact search gives way to the greedy one.
pub const EXACT_LIMIT: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// Chosen candidates, by position in the candidate list, ascending.
    pub chosen: Vec<usize>,
    pub method: Method,
    /// No set smaller than this can meet the demand.
    pub lower_bound: usize,
}

/// What each endpoint needs: `min_per_endpoint`, or all its covering anchors when fewer.
pub fn demand(covers: &[Vec<bool>], min_per_endpoint: usize) -> Vec<usize> {
    covers
        .iter()
        .map(|row| row.iter().filter(|&&c| c).count().min(min_per_endpoint))
        .collect()
}

/// The largest demand, and the total demand divided by the most any one anchor can meet.
pub fn lower_bound(covers: &[Vec<bool>], demand: &[usize]) -> usize {
    let candidates = covers.first().map_or(0, Vec::len);
    let widest = (0..candidates)
        .map(|c| covers.iter().filter(|row| row[c]).count())
        .max()
        .unwrap_or(0);
    let total: usize = demand.iter().sum();
    let spread = if widest == 0 {
        0
    } else {
        total.div_ceil(widest)
    };
    demand.iter().copied().max().unwrap_or(0).max(spread)
}

fn meets(covers: &[Vec<bool>], demand: &[usize], chosen: &[usize]) -> bool {
    covers
        .iter()
        .zip(demand)
        .all(|(row, &need)| chosen.iter().filter(|&&c| row[c]).count() >= need)
}

/// Candidates in `preference` order are tried first, so among sets of equal size the preferred
/// ones win (the caller puts roots before intermediates, longer-lived before shorter).
pub fn select(covers: &[Vec<bool>], min_per_endpoint: usize, preference: &[usize]) -> Selection {
    let demand = demand(covers, min_per_endpoint);
    let bound = lower_bound(covers, &demand);
    let useful: Vec<usize> = preference
        .iter()
        .copied()
        .filter(|&c| covers.iter().any(|row| row[c]))
        .collect();
    if useful.len() <= EXACT_LIMIT {
        for size in bound..=useful.len() {
            if let Some(mut chosen) =
                first_combination(&useful, size, |set| meets(covers, &demand, set))
            {
                chosen.sort_unstable();
                return Selection {
                    chosen,
                    method: Method::Exact,
                    lower_bound: bound,
                };
            }
        }
    }
    let mut chosen = greedy(covers, &demand, &useful);
    chosen.sort_unstable();
    Selection {
        chosen,
        method: Method::Greedy,
        lower_bound: bound,
    }
}

/// The first `size`-subset of `items` (in lexicographic order of positions) satisfying `ok`.
fn first_combination(
    items: &[usize],
    size: usize,
    ok: impl Fn(&[usize]) -> bool,
) -> Option<Vec<usize>> {
    let mut positions: Vec<usize> = (0..size).collect();
    loop {
        let set: Vec<usize> = positions.iter().map(|&p| items[p]).collect();
        if ok(&set) {
            return Some(set);
        }
        // Next combination: advance the rightmost position that has room.
        let mut i = size;
        loop {
            if i == 0 {
                return None;
            }
            i -= 1;
            if positions[i] < items.len() - size + i {
                break;
            }
            if i == 0 {
                return None;
            }
        }
        positions[i] += 1;
        for j in i + 1..size {
            positions[j] = positions[j - 1] + 1;
        }
    }
}

fn greedy(covers: &[Vec<bool>], demand: &[usize], useful: &[usize]) -> Vec<usize> {
    let mut unmet = demand.to_vec();
    let mut chosen = Vec::new();
    loop {
        let gain = |c: usize| {
            covers
                .iter()
                .zip(&unmet)
                .filter(|(row, &need)| need > 0 && row[c])
                .count()
        };
        let best = useful
            .iter()
            .copied()
            .filter(|c| !chosen.contains(c))
            .max_by_key(|&c| (gain(c), std::cmp::Reverse(c)));
        match best {
            Some(c) if gain(c) > 0 => {
                for (row, need) in covers.iter().zip(unmet.iter_mut()) {
                    if row[c] && *need > 0 {
                        *need -= 1;
                    }
                }
                chosen.push(c);
            }
            _ => return chosen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: &[&str]) -> Vec<Vec<bool>> {
        rows.iter()
            .map(|row| row.chars().map(|c| c == 'x').collect())
            .collect()
    }

    #[test]
    fn exact_finds_the_shared_pair_where_greedy_order_would_not_matter() {
        // Endpoints a, b both covered by 1 and 2; 0 covers a only; 3 covers b only.
        let covers = grid(&["xxx.", ".xxx"]);
        let selection = select(&covers, 2, &[0, 1, 2, 3]);
        assert_eq!(selection.chosen, vec![1, 2]);
        assert_eq!(selection.method, Method::Exact);
        assert_eq!(selection.lower_bound, 2);
    }

    #[test]
    fn an_endpoint_with_fewer_anchors_gets_all_it_has() {
        let covers = grid(&["x..", ".xx"]);
        assert_eq!(demand(&covers, 2), vec![1, 2]);
        assert_eq!(select(&covers, 2, &[0, 1, 2]).chosen, vec![0, 1, 2]);
    }

    #[test]
    fn preference_breaks_ties() {
        let covers = grid(&["xx"]);
        assert_eq!(select(&covers, 1, &[1, 0]).chosen, vec![1]);
        assert_eq!(select(&covers, 1, &[0, 1]).chosen, vec![0]);
    }

    #[test]
    fn many_candidates_go_greedy_and_meet_the_demand() {
        let width = EXACT_LIMIT + 5;
        let covers: Vec<Vec<bool>> = (0..10)
            .map(|e| (0..width).map(|c| (c + e) % 3 == 0).collect())
            .collect();
        let order: Vec<usize> = (0..width).collect();
        let selection = select(&covers, 2, &order);
        assert_eq!(selection.method, Method::Greedy);
        assert!(meets(&covers, &demand(&covers, 2), &selection.chosen));
        assert!(selection.chosen.len() >= selection.lower_bound);
    }
}
