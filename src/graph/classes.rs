//! Value classes: per fact, the values the policy cannot tell apart.
//!
//! bool: false / true. enum: variants that every test treats alike share a class.
//! int: the intervals cut by the constants the policy compares with (adjacent intervals
//! that every test treats alike are merged).

use crate::check::ir::{Cond, FactType, Ir, Test};

/// The classes of one fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Classes {
    /// Class 0 = false, class 1 = true.
    Bool,
    /// `of_variant[v]` is the class of variant `v`; `members[c]` the variants of class `c`.
    Enum {
        /// Class of each variant.
        of_variant: Vec<u32>,
        /// Variants of each class, in order.
        members: Vec<Vec<u32>>,
    },
    /// Class `c` is the interval `starts[c] ..= starts[c+1]-1` (the last ends at `hi`).
    Int {
        /// First value of each interval, ascending; `starts[0]` is the range's `lo`.
        starts: Vec<i64>,
        /// The range's `hi`.
        hi: i64,
    },
}

impl Classes {
    /// How many classes.
    pub fn count(&self) -> usize {
        match self {
            Classes::Bool => 2,
            Classes::Enum { members, .. } => members.len(),
            Classes::Int { starts, .. } => starts.len(),
        }
    }

    /// The class of encoded value `v` (`None` outside the domain).
    #[inline]
    pub fn of(&self, v: i64) -> Option<u32> {
        match self {
            Classes::Bool => match v {
                0 => Some(0),
                1 => Some(1),
                _ => None,
            },
            Classes::Enum { of_variant, .. } => usize::try_from(v)
                .ok()
                .and_then(|i| of_variant.get(i))
                .copied(),
            Classes::Int { starts, hi } => {
                if v > *hi || starts.first().is_none_or(|lo| v < *lo) {
                    return None;
                }
                let idx = starts.partition_point(|s| *s <= v);
                Some(idx as u32 - 1)
            }
        }
    }

    /// A value of class `c` (the first one).
    pub fn representative(&self, c: usize) -> i64 {
        match self {
            Classes::Bool => c as i64,
            Classes::Enum { members, .. } => {
                members.get(c).and_then(|m| m.first()).copied().unwrap_or(0) as i64
            }
            Classes::Int { starts, .. } => starts.get(c).copied().unwrap_or(0),
        }
    }

    /// The values of class `c` as `lo..=hi` for ints.
    pub fn interval(&self, c: usize) -> Option<(i64, i64)> {
        match self {
            Classes::Int { starts, hi } => {
                let lo = *starts.get(c)?;
                let end = starts.get(c + 1).map_or(*hi, |n| n - 1);
                Some((lo, end))
            }
            _ => None,
        }
    }

    /// How many values class `c` holds.
    pub fn size(&self, c: usize) -> u128 {
        match self {
            Classes::Bool => 1,
            Classes::Enum { members, .. } => members.get(c).map_or(0, |m| m.len() as u128),
            Classes::Int { .. } => self
                .interval(c)
                .map_or(0, |(a, b)| (b as i128 - a as i128 + 1) as u128),
        }
    }
}

/// Compute the classes of every fact from the tests that appear in the policy.
pub fn compute(ir: &Ir) -> Vec<Classes> {
    let mut tests: Vec<Vec<Test>> = vec![Vec::new(); ir.facts.len()];
    let mut all: Vec<&Test> = Vec::new();
    let conds: Vec<&Cond> = ir
        .denies
        .iter()
        .map(|d| &d.when)
        .chain(ir.paths.iter().map(|p| &p.when))
        .chain(ir.methods.iter().map(|m| &m.requires))
        .collect();
    for c in conds {
        c.tests(&mut all);
    }
    let mut seen: std::collections::HashSet<&Test> = std::collections::HashSet::new();
    for t in all {
        if let Some(list) = tests.get_mut(t.fact().index()) {
            if seen.insert(t) {
                list.push(t.clone());
            }
        }
    }
    ir.facts
        .iter()
        .zip(&tests)
        .map(|(f, ts)| match &f.ty {
            FactType::Bool => Classes::Bool,
            FactType::Enum(vs) => {
                let mut sigs: Vec<Vec<bool>> = Vec::new();
                let mut of_variant = Vec::with_capacity(vs.len());
                let mut members: Vec<Vec<u32>> = Vec::new();
                for v in 0..vs.len() {
                    let sig: Vec<bool> = ts.iter().map(|t| t.holds(v as i64)).collect();
                    let c = match sigs.iter().position(|s| *s == sig) {
                        Some(c) => c,
                        None => {
                            sigs.push(sig);
                            members.push(Vec::new());
                            sigs.len() - 1
                        }
                    };
                    of_variant.push(c as u32);
                    if let Some(m) = members.get_mut(c) {
                        m.push(v as u32);
                    }
                }
                Classes::Enum {
                    of_variant,
                    members,
                }
            }
            FactType::Int { lo, hi } => {
                // A cut starts a new class when a test that cuts there changes its
                // outcome there: `cuts` lists every point where a test may change, so
                // this is the same as comparing all tests' outcomes on both sides, in
                // time linear in the number of cuts.
                let mut cuts: Vec<(i64, usize)> = ts
                    .iter()
                    .enumerate()
                    .flat_map(|(i, t)| t.cuts().into_iter().map(move |c| (c, i)))
                    .filter(|(c, _)| c > lo && c <= hi)
                    .collect();
                cuts.sort_unstable();
                let mut starts: Vec<i64> = vec![*lo];
                for group in cuts.chunk_by(|a, b| a.0 == b.0) {
                    let Some(&(c, _)) = group.first() else {
                        continue;
                    };
                    let changes = group
                        .iter()
                        .filter_map(|(_, i)| ts.get(*i))
                        .any(|t| t.holds(c - 1) != t.holds(c));
                    if changes {
                        starts.push(c);
                    }
                }
                Classes::Int { starts, hi: *hi }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_classes_follow_cuts() {
        let c = Classes::Int {
            starts: vec![0, 2, 6],
            hi: 10,
        };
        assert_eq!(c.of(-1), None);
        assert_eq!(c.of(0), Some(0));
        assert_eq!(c.of(1), Some(0));
        assert_eq!(c.of(2), Some(1));
        assert_eq!(c.of(5), Some(1));
        assert_eq!(c.of(10), Some(2));
        assert_eq!(c.of(11), None);
        assert_eq!(c.interval(1), Some((2, 5)));
        assert_eq!(c.size(2), 5);
    }
}
