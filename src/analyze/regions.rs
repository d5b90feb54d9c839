//! Regions of the profile space: exact shares by dynamic programming over a decision
//! diagram, and readable conditions (cubes) for the profiles that reach chosen
//! terminals.
//!
//! A *measure* gives every value class of every fact a probability ([`Probs`]): the
//! uniform measure weighs every fact value equally (ints count each value of their
//! range), so class `c` of a fact carries `|c| / |domain|`; a population model is a
//! mixture of such product measures. The root-to-terminal paths of a decision diagram are
//! disjoint, so cube shares add up exactly.
//!
//! Conditions are computed in three steps, all linear in the diagram or bounded:
//! 1. [`View::indicator`] reduces the diagram to the boolean function "reaches a target
//!    terminal" (terminals the question cannot tell apart merge, and tests that no longer
//!    matter disappear);
//! 2. [`View::disjoint_cover`] lists the paths of that reduced diagram to `true` as
//!    disjoint cubes (classes leading to the same child merge into one literal), then
//!    cubes that differ in one literal merge;
//! 3. [`View::irredundant`] widens each cube as far as the function allows and drops
//!    cubes the others already cover: the short, overlapping answers (`paths`,
//!    `lockout`).
//!
//! Every walk is iterative, and cubes under construction share their prefixes in an
//! arena, so a 35,000-fact conjunction costs memory in proportion to the output, which
//! is itself bounded by a literal budget.

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

/// Per fact, the probability of each of its value classes.
pub(crate) type Probs = Vec<Vec<f64>>;

/// One conjunct of a cube: a fact restricted to some of its classes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Lit {
    pub fact: u32,
    /// Sorted class indices.
    pub classes: Vec<u32>,
}

/// A conjunction of literals (facts not listed are free), sorted by fact.
pub(crate) type Cube = Vec<Lit>;

/// A reduced boolean diagram over the view's facts and classes: terminals are
/// `TERMINAL | 0` (false) and `TERMINAL | 1` (true); children have smaller ids.
pub(crate) struct Indicator {
    nodes: Vec<FlatNode>,
    kids: Vec<u32>,
    root: u32,
}

const NO: u32 = TERMINAL;
const YES: u32 = TERMINAL | 1;

impl Indicator {
    /// The function is false everywhere.
    pub fn is_false(&self) -> bool {
        self.root == NO
    }

    fn node(&self, r: u32) -> Option<(FlatNode, &[u32])> {
        let n = *self.nodes.get(r as usize)?;
        let next = self
            .nodes
            .get(r as usize + 1)
            .map_or(self.kids.len(), |m| m.first as usize);
        Some((n, self.kids.get(n.first as usize..next)?))
    }
}

/// The most diagram nodes [`View::irredundant`] visits while widening cubes.
pub(crate) const IRREDUNDANT_WORK: u64 = 50_000_000;

/// Why a list of regions is incomplete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OverBudget;

impl View<'_> {
    fn width(&self, fact: u32) -> usize {
        self.classes.get(fact as usize).map_or(0, Classes::count)
    }

    fn node(&self, r: u32) -> Option<(FlatNode, &[u32])> {
        let n = *self.nodes.get(r as usize)?;
        let w = self.width(n.fact);
        Some((n, self.kids.get(n.first as usize..n.first as usize + w)?))
    }

    /// The uniform measure: every value of every fact equally likely.
    pub fn uniform(&self) -> Probs {
        self.facts
            .iter()
            .zip(self.classes)
            .map(|(f, c)| {
                let size = f.ty.size() as f64;
                (0..c.count()).map(|k| c.size(k) as f64 / size).collect()
            })
            .collect()
    }

    /// The share of the space (under `probs`) that reaches each terminal.
    pub fn terminal_shares_with(&self, probs: &Probs) -> Vec<f64> {
        let mut mass = vec![0f64; self.nodes.len()];
        let mut out = vec![0f64; self.terminals];
        let mut add = |k: u32, m: f64, mass: &mut Vec<f64>| {
            let slot = if k & TERMINAL != 0 {
                out.get_mut((k & !TERMINAL) as usize)
            } else {
                mass.get_mut(k as usize)
            };
            if let Some(s) = slot {
                *s += m;
            }
        };
        add(self.root, 1.0, &mut mass);
        // Children always have smaller ids than their parents.
        for id in (0..self.nodes.len()).rev() {
            let m = mass.get(id).copied().unwrap_or(0.0);
            if m == 0.0 {
                continue;
            }
            let Some((n, kids)) = self.node(id as u32) else {
                continue;
            };
            let p = probs.get(n.fact as usize);
            for (c, k) in kids.iter().enumerate() {
                let w = p.and_then(|p| p.get(c)).copied().unwrap_or(0.0);
                add(*k, m * w, &mut mass);
            }
        }
        out
    }

    /// The share of the profile space (uniform measure) that reaches each terminal.
    pub fn terminal_shares(&self) -> Vec<f64> {
        self.terminal_shares_with(&self.uniform())
    }

    /// The share of a cube under `probs`.
    pub fn cube_share_with(&self, cube: &Cube, probs: &Probs) -> f64 {
        cube.iter()
            .map(|l| {
                let p = probs.get(l.fact as usize);
                l.classes
                    .iter()
                    .map(|c| p.and_then(|p| p.get(*c as usize)).copied().unwrap_or(0.0))
                    .sum::<f64>()
            })
            .product()
    }

    /// The boolean function "reaches a terminal in `target`", reduced: one pass over the
    /// nodes in id order (children first).
    pub fn indicator(&self, target: &dyn Fn(u32) -> bool) -> Indicator {
        let mut map = vec![NO; self.nodes.len()];
        let mut out = Indicator {
            nodes: Vec::new(),
            kids: Vec::new(),
            root: NO,
        };
        let mut unique: HashMap<(u32, Vec<u32>), u32> = HashMap::new();
        let to = |k: u32, map: &[u32]| -> u32 {
            if k & TERMINAL != 0 {
                if target(k & !TERMINAL) {
                    YES
                } else {
                    NO
                }
            } else {
                map.get(k as usize).copied().unwrap_or(NO)
            }
        };
        for id in 0..self.nodes.len() {
            let Some((n, kids)) = self.node(id as u32) else {
                continue;
            };
            let mapped: Vec<u32> = kids.iter().map(|k| to(*k, &map)).collect();
            let r = match mapped.first() {
                Some(first) if mapped.iter().all(|k| k == first) => *first,
                None => NO,
                Some(_) => *unique.entry((n.fact, mapped)).or_insert_with_key(|key| {
                    let id = out.nodes.len() as u32;
                    out.nodes.push(FlatNode {
                        fact: n.fact,
                        first: out.kids.len() as u32,
                    });
                    out.kids.extend_from_slice(&key.1);
                    id
                }),
            };
            if let Some(m) = map.get_mut(id) {
                *m = r;
            }
        }
        out.root = to(self.root, &map);
        out
    }

    /// Disjoint cubes covering exactly where `ind` holds: the paths of the reduced diagram
    /// to `true` (classes leading to the same child as one literal), then merged where two
    /// cubes differ in one literal. `budget` counts literals written; when it runs out
    /// the cubes found so far are returned with `Err`.
    pub fn disjoint_cover(
        &self,
        ind: &Indicator,
        budget: &mut usize,
    ) -> Result<Vec<Cube>, (Vec<Cube>, OverBudget)> {
        // Cubes under construction share prefixes: arena entries are (literal, parent).
        let mut arena: Vec<(Lit, u32)> = Vec::new();
        const ROOT: u32 = u32::MAX;
        let mut ends: Vec<(u32, usize)> = Vec::new(); // (arena index, length)
        let mut over = false;
        // Explicit stack: (diagram ref, arena index of the prefix, depth).
        let mut stack: Vec<(u32, u32, usize)> = vec![(ind.root, ROOT, 0)];
        while let Some((r, prefix, depth)) = stack.pop() {
            if r == YES {
                if *budget < depth.max(1) {
                    over = true;
                    break;
                }
                *budget -= depth.max(1);
                ends.push((prefix, depth));
                continue;
            }
            let Some((n, kids)) = ind.node(r) else {
                continue; // `NO`
            };
            let mut groups: Vec<(u32, Vec<u32>)> = Vec::new();
            for (c, k) in kids.iter().enumerate() {
                if *k == NO {
                    continue;
                }
                match groups.iter_mut().find(|(child, _)| child == k) {
                    Some((_, cs)) => cs.push(c as u32),
                    None => groups.push((*k, vec![c as u32])),
                }
            }
            // Push in reverse so that the walk visits classes in order.
            for (child, classes) in groups.into_iter().rev() {
                let idx = arena.len() as u32;
                arena.push((
                    Lit {
                        fact: n.fact,
                        classes,
                    },
                    prefix,
                ));
                stack.push((child, idx, depth + 1));
            }
        }
        let mut cubes: Vec<Cube> = ends
            .into_iter()
            .map(|(mut at, len)| {
                let mut cube = Vec::with_capacity(len);
                while let Some((lit, parent)) = arena.get(at as usize) {
                    cube.push(lit.clone());
                    at = *parent;
                }
                cube
            })
            .collect();
        drop(arena);
        self.merge(&mut cubes);
        if over {
            Err((cubes, OverBudget))
        } else {
            Ok(cubes)
        }
    }

    /// [`merge_cubes`], dropping literals that came to allow every class, until stable.
    pub fn merge(&self, cubes: &mut Vec<Cube>) {
        // A round costs (literals written) × (widest cube): past the budget the cover
        // stays as the walk gave it (exact and disjoint, just less compact).
        let literals: u128 = cubes.iter().map(|c| c.len() as u128).sum();
        let width = cubes.iter().map(Vec::len).max().unwrap_or(0) as u128;
        if literals * width > IRREDUNDANT_WORK as u128 {
            return;
        }
        loop {
            let before = cubes.len();
            merge_cubes(cubes);
            let mut stripped = false;
            for c in cubes.iter_mut() {
                let n = c.len();
                c.retain(|l| l.classes.len() < self.width(l.fact));
                stripped |= c.len() != n;
            }
            if !stripped && cubes.len() == before {
                return;
            }
            if !stripped {
                return;
            }
        }
    }

    /// Whether every profile of `cube` satisfies `ind`; `work` is charged the nodes
    /// visited and the cube's length.
    fn contained(&self, ind: &Indicator, cube: &Cube, work: &mut u64) -> bool {
        *work = work.saturating_sub(cube.len() as u64 + 1);
        let allowed = |fact: u32, class: usize| -> bool {
            match cube.binary_search_by_key(&fact, |l| l.fact) {
                Ok(i) => cube
                    .get(i)
                    .is_some_and(|l| l.classes.binary_search(&(class as u32)).is_ok()),
                Err(_) => true,
            }
        };
        // Allocating and clearing the visited set costs in proportion to the diagram.
        *work = work.saturating_sub(ind.nodes.len() as u64 / 16);
        let mut seen = vec![false; ind.nodes.len()];
        let mut stack = vec![ind.root];
        while let Some(r) = stack.pop() {
            if r == NO {
                return false;
            }
            if r & TERMINAL != 0 {
                continue;
            }
            match seen.get_mut(r as usize) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            *work = work.saturating_sub(1);
            let Some((n, kids)) = ind.node(r) else {
                continue;
            };
            for (c, k) in kids.iter().enumerate() {
                if allowed(n.fact, c) {
                    stack.push(*k);
                }
            }
        }
        true
    }

    /// An irredundant cover of `ind` from a cover of it: every cube widened as far as the
    /// function allows (a fact dropped, or classes added), duplicates and cubes inside
    /// another dropped, then cubes the others cover together dropped (smallest first).
    /// The result is exact: its union is `ind`; its cubes may overlap.
    pub fn irredundant(
        &self,
        ind: &Indicator,
        cubes: Vec<Cube>,
        share: &dyn Fn(&Cube) -> f64,
    ) -> Vec<Cube> {
        let mut out: Vec<Cube> = Vec::with_capacity(cubes.len());
        // Widening costs a walk of the diagram per literal and class; past this budget
        // the remaining cubes stay as the disjoint cover gave them (still exact).
        let mut work: u64 = IRREDUNDANT_WORK;
        for mut cube in cubes {
            cube.sort_by_key(|l| l.fact);
            if work == 0 {
                out.push(cube);
                continue;
            }
            // Widen: try to drop each literal, else add classes one by one.
            let mut i = 0;
            while i < cube.len() && work > 0 {
                let lit = cube.remove(i);
                if self.contained(ind, &cube, &mut work) {
                    continue; // dropped for good
                }
                let mut lit = lit;
                let width = self.width(lit.fact) as u32;
                for c in 0..width {
                    if lit.classes.binary_search(&c).is_ok() {
                        continue;
                    }
                    let mut wider = lit.clone();
                    let at = wider.classes.partition_point(|x| *x < c);
                    wider.classes.insert(at, c);
                    cube.insert(i, wider);
                    if self.contained(ind, &cube, &mut work) {
                        lit = cube.remove(i);
                    } else {
                        cube.remove(i);
                    }
                }
                if lit.classes.len() as u32 == width {
                    continue; // every class: the fact is free
                }
                cube.insert(i, lit);
                i += 1;
            }
            out.push(cube);
        }
        out.sort();
        out.dedup();
        // From here on, cubes as dense bit masks: one run of words per fact.
        let layout = Layout::new(self);
        // Pairwise checks cost cubes² × words: past the budget the widened cubes are
        // returned as they are (exact; maybe not irredundant).
        let pairs = (out.len() as u128).pow(2) * layout.words as u128;
        if pairs > IRREDUNDANT_WORK as u128 {
            out.sort_by(|a, b| {
                share(b)
                    .partial_cmp(&share(a))
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.cmp(b))
            });
            return out;
        }
        let mut dense: Vec<(Vec<u64>, Cube)> =
            out.into_iter().map(|c| (layout.dense(&c), c)).collect();
        // Drop cubes contained in another single cube (larger cubes first).
        dense
            .sort_by_key(|(d, _)| std::cmp::Reverse(d.iter().map(|w| w.count_ones()).sum::<u32>()));
        let mut kept: Vec<(Vec<u64>, Cube)> = Vec::with_capacity(dense.len());
        for (d, c) in dense {
            if !kept.iter().any(|(k, _)| subset(&d, k)) {
                kept.push((d, c));
            }
        }
        // Drop cubes covered by the union of the others, smallest first.
        kept.sort_by(|a, b| {
            share(&a.1)
                .partial_cmp(&share(&b.1))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| b.1.len().cmp(&a.1.len()))
        });
        let mut i = 0;
        while i < kept.len() {
            let me = kept.get(i).map(|(d, _)| d.clone()).unwrap_or_default();
            let others: Vec<&Vec<u64>> = kept
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (d, _))| d)
                .collect();
            let mut work = 20_000usize;
            if layout.covered(me, &others, &mut work) == Some(true) {
                kept.remove(i);
            } else {
                i += 1;
            }
        }
        let mut cubes: Vec<Cube> = kept.into_iter().map(|(_, c)| c).collect();
        cubes.sort_by(|a, b| {
            share(b)
                .partial_cmp(&share(a))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.cmp(b))
        });
        cubes
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

    /// A union of cubes as one condition: `false` when empty, cubes joined with `or`,
    /// each in parentheses when it has several literals.
    pub fn render_any(&self, cubes: &[Cube]) -> String {
        match cubes {
            [] => "false".into(),
            [one] => self.render(one),
            many => many
                .iter()
                .map(|c| {
                    let s = self.render(c);
                    if c.len() > 1 || s.contains(" or ") {
                        format!("({s})")
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }

    fn render_lit(&self, l: &Lit) -> Option<String> {
        let fact = self.facts.get(l.fact as usize)?;
        let cls = self.classes.get(l.fact as usize)?;
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
                match (chosen.as_slice(), others.as_slice()) {
                    ([one], _) => format!("{name} == {one}"),
                    (_, [other]) => format!("{name} != {other}"),
                    _ => {
                        let list: Vec<&str> = chosen.iter().map(|s| s.as_str()).collect();
                        format!("{name} in [{}]", list.join(", "))
                    }
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
                match merged.as_slice() {
                    [single] => one(*single),
                    _ => format!(
                        "({})",
                        merged.into_iter().map(one).collect::<Vec<_>>().join(" or ")
                    ),
                }
            }
            _ => return None,
        })
    }
}

/// Where each fact's classes sit in a dense cube: `words` u64s per fact.
struct Layout {
    /// Per fact: (first word, number of classes).
    at: Vec<(usize, usize)>,
    words: usize,
}

impl Layout {
    fn new(v: &View<'_>) -> Layout {
        let mut at = Vec::with_capacity(v.facts.len());
        let mut words = 0;
        for f in 0..v.facts.len() {
            let n = v.width(f as u32);
            at.push((words, n));
            words += n.div_ceil(64).max(1);
        }
        Layout { at, words }
    }

    /// A cube as bit masks: every class of a free fact set.
    fn dense(&self, cube: &Cube) -> Vec<u64> {
        let mut d = vec![0u64; self.words];
        for (f, (first, n)) in self.at.iter().enumerate() {
            let lit = cube.iter().find(|l| l.fact as usize == f);
            for c in 0..*n {
                if lit.is_none_or(|l| l.classes.binary_search(&(c as u32)).is_ok()) {
                    if let Some(w) = d.get_mut(first + c / 64) {
                        *w |= 1 << (c % 64);
                    }
                }
            }
        }
        d
    }

    /// Whether `cube` lies inside the union of `others` (`None` when the work budget
    /// runs out: not proven). Subtracts the others one by one, splitting what is left
    /// into disjoint pieces.
    fn covered(&self, cube: Vec<u64>, others: &[&Vec<u64>], work: &mut usize) -> Option<bool> {
        let mut pieces = vec![cube];
        for o in others {
            let mut next = Vec::new();
            for p in pieces {
                if *work == 0 {
                    return None;
                }
                *work -= 1;
                let facts = || {
                    self.at
                        .iter()
                        .map(|(first, n)| *first..*first + n.div_ceil(64).max(1))
                };
                // Disjoint when some fact has no class in common.
                let disjoint = facts().any(|r| {
                    r.clone()
                        .all(|w| p.get(w).zip(o.get(w)).is_none_or(|(a, b)| a & b == 0))
                });
                if disjoint {
                    next.push(p);
                    continue;
                }
                // p \ o: per fact where o does not contain p, the part of p outside o
                // (inside o on the facts before).
                let mut inside = p;
                for r in facts() {
                    let outside_any = r.clone().any(|w| {
                        inside
                            .get(w)
                            .zip(o.get(w))
                            .is_some_and(|(a, b)| a & !b != 0)
                    });
                    if !outside_any {
                        continue;
                    }
                    let mut piece = inside.clone();
                    for w in r {
                        let ow = o.get(w).copied().unwrap_or(0);
                        if let Some(x) = piece.get_mut(w) {
                            *x &= !ow;
                        }
                        if let Some(x) = inside.get_mut(w) {
                            *x &= ow;
                        }
                    }
                    next.push(piece);
                }
            }
            pieces = next;
            if pieces.is_empty() {
                return Some(true);
            }
        }
        Some(pieces.is_empty())
    }
}

/// `a ⊆ b` for dense cubes.
fn subset(a: &[u64], b: &[u64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x & !y == 0)
}

/// Merge cubes that differ in one literal only (the union of its classes), until
/// nothing merges. Disjointness is kept: a merged cube covers exactly what both covered.
/// Each round hashes every cube once per literal position, without copying it.
pub(crate) fn merge_cubes(cubes: &mut Vec<Cube>) {
    use std::hash::{Hash, Hasher};
    for c in cubes.iter_mut() {
        c.sort_by_key(|l| l.fact);
    }
    // The hash of a cube without its i-th literal (its facts all count).
    let hash_without = |c: &Cube, i: usize| -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        for (j, l) in c.iter().enumerate() {
            l.fact.hash(&mut h);
            if j != i {
                l.classes.hash(&mut h);
            }
        }
        h.finish()
    };
    let same_without = |a: &Cube, b: &Cube, i: usize| -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .enumerate()
                .all(|(j, (x, y))| x.fact == y.fact && (j == i || x.classes == y.classes))
    };
    loop {
        let mut changed = false;
        let width = cubes.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..width {
            let mut seen: rustc_hash::FxHashMap<u64, Vec<usize>> = Default::default();
            let mut dead = vec![false; cubes.len()];
            let mut extra: Vec<(usize, usize)> = Vec::new(); // (into, from)
            for (j, cube) in cubes.iter().enumerate() {
                if cube.len() <= i {
                    continue;
                }
                let bucket = seen.entry(hash_without(cube, i)).or_default();
                let found = bucket.iter().copied().find(|k| {
                    cubes
                        .get(*k)
                        .is_some_and(|other| same_without(other, cube, i))
                });
                match found {
                    Some(k) => {
                        extra.push((k, j));
                        if let Some(d) = dead.get_mut(j) {
                            *d = true;
                        }
                        changed = true;
                    }
                    None => bucket.push(j),
                }
            }
            for (k, j) in extra {
                let classes = cubes
                    .get(j)
                    .and_then(|c| c.get(i))
                    .map(|l| l.classes.clone())
                    .unwrap_or_default();
                if let Some(target) = cubes.get_mut(k).and_then(|c| c.get_mut(i)) {
                    target.classes.extend(classes);
                    target.classes.sort_unstable();
                    target.classes.dedup();
                }
            }
            let mut k = 0;
            cubes.retain(|_| {
                k += 1;
                !dead.get(k - 1).copied().unwrap_or(false)
            });
        }
        if !changed {
            return;
        }
    }
}

impl View<'_> {
    /// Disjoint cubes covering exactly the profiles that reach a terminal in `target`,
    /// `None` when more than `limit` literals would be written.
    pub fn cover(&self, target: &dyn Fn(u32) -> bool, limit: usize) -> Option<Vec<Cube>> {
        let ind = self.indicator(target);
        let mut budget = limit.saturating_mul(self.facts.len().max(1));
        self.disjoint_cover(&ind, &mut budget).ok()
    }

    /// The share of a cube under the uniform measure.
    pub fn cube_share(&self, cube: &Cube) -> f64 {
        self.cube_share_with(cube, &self.uniform())
    }
}

impl View<'_> {
    /// Like [`View::cover`], but keeps the cubes found when the budget runs out, and
    /// says whether the list is complete. Terminals are not told apart (`0`).
    pub fn cubes_upto(
        &self,
        target: &dyn Fn(u32) -> bool,
        limit: usize,
    ) -> (Vec<(u32, Cube)>, bool) {
        let ind = self.indicator(target);
        let mut budget = limit.saturating_mul(self.facts.len().max(1));
        let (cubes, complete) = match self.disjoint_cover(&ind, &mut budget) {
            Ok(c) => (c, true),
            Err((c, _)) => (c, false),
        };
        (cubes.into_iter().map(|c| (0, c)).collect(), complete)
    }
}
