//! Regions of the profile space: exact shares by dynamic programming over a decision
//! diagram, and readable conditions (cubes) for the profiles that reach chosen
//! terminals.
//!
//! Shares weigh every fact value equally (ints count each value of their range), so an
//! edge for class `c` of a fact carries `|c| / |domain|`. The root-to-terminal paths of a
//! decision diagram are disjoint, so cube shares add up exactly.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashMap;

use crate::check::ir::{Fact, FactType};
use crate::graph::classes::Classes;
use crate::graph::compile::{FlatNode, TERMINAL};

/// A decision diagram to analyse: the decision graph, or the product of two in `diff`.
pub(crate) struct View<'a> {
    pub nodes: &'a [FlatNode],
    pub kids: &'a [u32],
    pub classes: &'a [Classes],
    pub facts: &'a [Fact],
    pub root: u32,
    pub terminals: usize,
}

/// One conjunct of a cube: a fact restricted to some of its classes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Lit {
    pub fact: u32,
    /// Sorted class indices.
    pub classes: Vec<u32>,
}

/// A conjunction of literals (facts not listed are free).
pub(crate) type Cube = Vec<Lit>;

impl View<'_> {
    fn frac(&self, fact: usize, class: usize) -> f64 {
        let size = self.facts[fact].ty.size() as f64;
        self.classes[fact].size(class) as f64 / size
    }

    /// The share of the profile space that reaches each terminal.
    pub fn terminal_shares(&self) -> Vec<f64> {
        let mut mass = vec![0f64; self.nodes.len()];
        let mut out = vec![0f64; self.terminals];
        if self.root & TERMINAL != 0 {
            if let Some(t) = out.get_mut((self.root & !TERMINAL) as usize) {
                *t = 1.0;
            }
            return out;
        }
        // Children always have smaller ids than their parents.
        if let Some(m) = mass.get_mut(self.root as usize) {
            *m = 1.0;
        }
        for id in (0..self.nodes.len()).rev() {
            let m = mass[id];
            if m == 0.0 {
                continue;
            }
            let n = self.nodes[id];
            for c in 0..self.classes[n.fact as usize].count() {
                let k = self.kids[n.first as usize + c];
                let add = m * self.frac(n.fact as usize, c);
                if k & TERMINAL != 0 {
                    out[(k & !TERMINAL) as usize] += add;
                } else {
                    mass[k as usize] += add;
                }
            }
        }
        out
    }

    /// The share of a cube.
    pub fn cube_share(&self, cube: &Cube) -> f64 {
        cube.iter()
            .map(|l| {
                l.classes
                    .iter()
                    .map(|c| self.frac(l.fact as usize, *c as usize))
                    .sum::<f64>()
            })
            .product()
    }

    /// Disjoint cubes covering exactly the profiles that reach a terminal in `target`.
    /// Classes of a node that lead to the same child are merged into one literal, and
    /// cubes that differ in one literal are merged. `None` when more than `limit` cubes
    /// would be needed.
    pub fn cover(&self, target: &dyn Fn(u32) -> bool, limit: usize) -> Option<Vec<Cube>> {
        let mut cubes: Vec<Cube> = self
            .cubes(target, limit)?
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        merge_cubes(&mut cubes);
        Some(cubes)
    }

    /// Every root-to-terminal path that ends in `target`, as (terminal, cube), found by
    /// a depth-first walk that skips sub-graphs reaching no target. The work is
    /// proportional to the output. `None` when there are more than `limit`.
    pub fn cubes(&self, target: &dyn Fn(u32) -> bool, limit: usize) -> Option<Vec<(u32, Cube)>> {
        let (out, complete) = self.cubes_upto(target, limit);
        complete.then_some(out)
    }

    /// Like [`View::cubes`], but keeps the first `limit` cubes when there are more, and
    /// says whether the list is complete.
    pub fn cubes_upto(
        &self,
        target: &dyn Fn(u32) -> bool,
        limit: usize,
    ) -> (Vec<(u32, Cube)>, bool) {
        // reach[n]: some target terminal is reachable from inner node n.
        let mut reach = vec![false; self.nodes.len()];
        let hit = |k: u32, reach: &[bool]| {
            if k & TERMINAL != 0 {
                target(k & !TERMINAL)
            } else {
                reach.get(k as usize).copied().unwrap_or(false)
            }
        };
        for id in 0..self.nodes.len() {
            let n = self.nodes[id];
            let w = self.classes[n.fact as usize].count();
            reach[id] = (0..w).any(|c| hit(self.kids[n.first as usize + c], &reach));
        }
        let mut out = Vec::new();
        let mut stack: Vec<Lit> = Vec::new();
        let complete = self.walk(self.root, &reach, target, &mut stack, &mut out, limit);
        (out, complete)
    }

    fn walk(
        &self,
        r: u32,
        reach: &[bool],
        target: &dyn Fn(u32) -> bool,
        stack: &mut Vec<Lit>,
        out: &mut Vec<(u32, Cube)>,
        limit: usize,
    ) -> bool {
        if r & TERMINAL != 0 {
            if target(r & !TERMINAL) {
                if out.len() >= limit {
                    return false;
                }
                out.push((r & !TERMINAL, stack.clone()));
            }
            return true;
        }
        if !reach.get(r as usize).copied().unwrap_or(false) {
            return true;
        }
        let n = self.nodes[r as usize];
        let width = self.classes[n.fact as usize].count();
        let mut groups: Vec<(u32, Vec<u32>)> = Vec::new();
        for c in 0..width {
            let k = self.kids[n.first as usize + c];
            match groups.iter_mut().find(|(child, _)| *child == k) {
                Some((_, cs)) => cs.push(c as u32),
                None => groups.push((k, vec![c as u32])),
            }
        }
        for (child, cs) in groups {
            stack.push(Lit {
                fact: n.fact,
                classes: cs,
            });
            let ok = self.walk(child, reach, target, stack, out, limit);
            stack.pop();
            if !ok {
                return false;
            }
        }
        true
    }

    /// A cube as a condition in the language's own syntax (`true` for the empty cube).
    pub fn render(&self, cube: &Cube) -> String {
        let mut lits: Vec<&Lit> = cube.iter().collect();
        lits.sort_by_key(|l| l.fact);
        let parts: Vec<String> = lits.iter().filter_map(|l| self.render_lit(l)).collect();
        if parts.is_empty() {
            "true".into()
        } else {
            parts.join(" and ")
        }
    }

    fn render_lit(&self, l: &Lit) -> Option<String> {
        let fact = &self.facts[l.fact as usize];
        let cls = &self.classes[l.fact as usize];
        let name = &fact.name;
        if l.classes.len() == cls.count() {
            return None; // no restriction
        }
        Some(match (&fact.ty, cls) {
            (FactType::Bool, _) => {
                if l.classes == [1] {
                    name.clone()
                } else {
                    format!("not {name}")
                }
            }
            (FactType::Enum(vs), Classes::Enum { members, .. }) => {
                let mut chosen: Vec<u32> = l
                    .classes
                    .iter()
                    .flat_map(|c| members.get(*c as usize).cloned().unwrap_or_default())
                    .collect();
                chosen.sort_unstable();
                let others: Vec<&String> = (0..vs.len() as u32)
                    .filter(|v| chosen.binary_search(v).is_err())
                    .filter_map(|v| vs.get(v as usize))
                    .collect();
                let chosen: Vec<&String> =
                    chosen.iter().filter_map(|v| vs.get(*v as usize)).collect();
                if chosen.len() == 1 {
                    format!("{name} == {}", chosen[0])
                } else if others.len() == 1 {
                    format!("{name} != {}", others[0])
                } else {
                    let list: Vec<&str> = chosen.iter().map(|s| s.as_str()).collect();
                    format!("{name} in [{}]", list.join(", "))
                }
            }
            (FactType::Int { lo, hi }, _) => {
                let mut ivs: Vec<(i64, i64)> = l
                    .classes
                    .iter()
                    .filter_map(|c| cls.interval(*c as usize))
                    .collect();
                ivs.sort_unstable();
                let mut merged: Vec<(i64, i64)> = Vec::new();
                for (a, b) in ivs {
                    match merged.last_mut() {
                        Some(last) if last.1.checked_add(1) == Some(a) => last.1 = b,
                        _ => merged.push((a, b)),
                    }
                }
                let one = |(a, b): (i64, i64)| -> String {
                    if a == b {
                        format!("{name} == {a}")
                    } else if a == *lo {
                        format!("{name} <= {b}")
                    } else if b == *hi {
                        format!("{name} >= {a}")
                    } else {
                        format!("{name} >= {a} and {name} <= {b}")
                    }
                };
                if merged.len() == 1 {
                    one(merged[0])
                } else {
                    format!(
                        "({})",
                        merged.into_iter().map(one).collect::<Vec<_>>().join(" or ")
                    )
                }
            }
            _ => return None,
        })
    }
}

/// Merge cubes that differ in one literal only (the union of its classes), until
/// nothing merges. Disjointness is kept: a merged cube covers exactly what both covered.
/// Each round hashes every cube once per literal position.
pub(crate) fn merge_cubes(cubes: &mut Vec<Cube>) {
    for c in cubes.iter_mut() {
        c.sort_by_key(|l| l.fact);
    }
    loop {
        let mut changed = false;
        let width = cubes.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..width {
            let mut seen: HashMap<(Vec<u32>, Vec<Lit>), usize> = HashMap::new();
            let mut dead = vec![false; cubes.len()];
            for j in 0..cubes.len() {
                if cubes[j].len() <= i {
                    continue;
                }
                let facts: Vec<u32> = cubes[j].iter().map(|l| l.fact).collect();
                let mut rest = cubes[j].clone();
                rest.remove(i);
                match seen.get(&(facts.clone(), rest.clone())) {
                    Some(&k) => {
                        let extra = cubes[j][i].classes.clone();
                        let target = &mut cubes[k][i].classes;
                        target.extend(extra);
                        target.sort_unstable();
                        target.dedup();
                        dead[j] = true;
                        changed = true;
                    }
                    None => {
                        seen.insert((facts, rest), j);
                    }
                }
            }
            let mut k = 0;
            cubes.retain(|_| {
                k += 1;
                !dead[k - 1]
            });
        }
        if !changed {
            return;
        }
    }
}
