//! `diff`: where two versions of a policy decide differently, computed on the product of
//! their decision graphs (compiled over shared facts, classes and order), not by sampling.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::regions::View;
use super::{kind_rank, CUBE_LIMIT};
use crate::check::ir::{Fact, FactId, FactMap, FactType, Ir};
use crate::decision::{Decision, DecisionKind};
use crate::graph::classes::{self, Classes};
use crate::graph::compile::{self, CompileError, CompileOptions, FlatNode, TERMINAL};
use crate::Policy;

/// One side of a differing region.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Side {
    /// allow, deny or lockout.
    pub decision: DecisionKind,
    /// Available paths by name, in order.
    pub paths: Vec<String>,
    /// Deny reasons.
    pub denied_by: Vec<String>,
}

impl Side {
    fn of(d: &Decision) -> Side {
        Side {
            decision: d.kind(),
            paths: d.path_names().iter().map(|s| s.to_string()).collect(),
            denied_by: d.denied_by().to_vec(),
        }
    }
}

/// A region of profiles decided differently.
#[derive(Clone, Debug, Serialize)]
pub struct DiffRegion {
    /// The condition, in the language's own syntax.
    pub condition: String,
    /// Its share of the space of all facts of both versions.
    pub share: f64,
    /// The old decision.
    pub old: Side,
    /// The new decision.
    pub new: Side,
}

/// The result of comparing two versions.
#[derive(Clone, Debug, Serialize)]
pub struct Diff {
    /// No profile is decided differently.
    pub equivalent: bool,
    /// Share of profiles decided differently.
    pub share: f64,
    /// Facts only the old version has (free in the new one).
    pub removed_facts: Vec<String>,
    /// Facts only the new version has (free in the old one).
    pub added_facts: Vec<String>,
    /// Disjoint regions covering exactly the differing profiles.
    pub regions: Vec<DiffRegion>,
    /// True when there were too many regions to write out.
    pub truncated: bool,
}

/// Why two versions cannot be compared.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DiffError {
    /// A fact has different types in the two versions.
    #[error("fact `{name}` is `{old}` in the old version but `{new}` in the new one; diff needs the same type (enum variants may be reordered)")]
    TypeChanged {
        /// The fact.
        name: String,
        /// Old type.
        old: String,
        /// New type.
        new: String,
    },
    /// Compilation failed.
    #[error(transparent)]
    Compile(#[from] CompileError),
}

fn same_type(a: &FactType, b: &FactType) -> bool {
    match (a, b) {
        (FactType::Enum(x), FactType::Enum(y)) => {
            let mut x = x.clone();
            let mut y = y.clone();
            x.sort();
            y.sort();
            x == y
        }
        _ => a == b,
    }
}

/// Compare two versions of a policy.
pub fn diff(old: &Policy, new: &Policy, opts: CompileOptions) -> Result<Diff, DiffError> {
    let (a, b) = (old.ir(), new.ir());
    // The shared facts: the old ones in order, then those only the new version has.
    let mut facts: Vec<Fact> = a.facts.clone();
    let map_a = FactMap {
        fact: (0..a.facts.len() as u32).map(FactId).collect(),
        variants: a
            .facts
            .iter()
            .map(|f| match &f.ty {
                FactType::Enum(vs) => (0..vs.len()).collect(),
                _ => Vec::new(),
            })
            .collect(),
    };
    let mut map_b = FactMap {
        fact: Vec::new(),
        variants: Vec::new(),
    };
    let mut added = Vec::new();
    for f in &b.facts {
        match a.fact_id(&f.name) {
            Some(id) => {
                let fa = &a.facts[id.index()];
                if !same_type(&fa.ty, &f.ty) {
                    return Err(DiffError::TypeChanged {
                        name: f.name.clone(),
                        old: fa.ty.describe(),
                        new: f.ty.describe(),
                    });
                }
                map_b.fact.push(id);
                map_b.variants.push(match (&f.ty, &fa.ty) {
                    (FactType::Enum(vb), FactType::Enum(va)) => vb
                        .iter()
                        .map(|v| va.iter().position(|x| x == v).unwrap_or(0))
                        .collect(),
                    _ => Vec::new(),
                });
            }
            None => {
                map_b.fact.push(FactId(facts.len() as u32));
                map_b.variants.push(match &f.ty {
                    FactType::Enum(vs) => (0..vs.len()).collect(),
                    _ => Vec::new(),
                });
                facts.push(f.clone());
                added.push(f.name.clone());
            }
        }
    }
    let removed: Vec<String> = a
        .facts
        .iter()
        .filter(|f| b.fact_id(&f.name).is_none())
        .map(|f| f.name.clone())
        .collect();
    let ia = a.remap(&facts, &map_a);
    let ib = b.remap(&facts, &map_b);
    // Classes and order that refine both versions' tests.
    let both = Ir {
        name: String::new(),
        facts: facts.clone(),
        methods: ia.methods.iter().chain(&ib.methods).cloned().collect(),
        denies: ia.denies.iter().chain(&ib.denies).cloned().collect(),
        paths: ia.paths.iter().chain(&ib.paths).cloned().collect(),
    };
    let cls = classes::compute(&both);
    let order = compile::fact_order(&both, &cls);
    let ga = compile::compile_in(&ia, cls.clone(), order.clone(), opts)?;
    let gb = compile::compile_in(&ib, cls.clone(), order.clone(), opts)?;

    // The product: terminals are pairs of differing decisions; equal pairs are "same".
    let mut level_of = vec![u32::MAX; facts.len()];
    for (l, f) in order.iter().enumerate() {
        level_of[f.index()] = l as u32;
    }
    let sides_a: Vec<Side> = ga.decisions.iter().map(Side::of).collect();
    let sides_b: Vec<Side> = gb.decisions.iter().map(Side::of).collect();
    let mut p = Product {
        a: (&ga.nodes, &ga.kids),
        b: (&gb.nodes, &gb.kids),
        level_of: &level_of,
        classes: &cls,
        sides_a: &sides_a,
        sides_b: &sides_b,
        nodes: Vec::new(),
        kids: Vec::new(),
        unique: HashMap::new(),
        memo: HashMap::new(),
        pairs: Vec::new(),
        pair_ids: HashMap::new(),
        limit: opts.node_limit,
    };
    let root = p.build(ga.root, gb.root)?;
    let v = View {
        nodes: &p.nodes,
        kids: &p.kids,
        classes: &cls,
        facts: &facts,
        root,
        terminals: p.pairs.len() + 1,
    };
    let tshares = v.terminal_shares();
    // Terminal 0 is "same"; group the others by (old side, new side).
    let mut groups: BTreeMap<(u8, Side, Side), (Vec<u32>, f64)> = BTreeMap::new();
    for (i, (x, y)) in p.pairs.iter().enumerate() {
        let t = i as u32 + 1;
        let e = groups
            .entry((
                kind_rank(sides_a[*x].decision),
                sides_a[*x].clone(),
                sides_b[*y].clone(),
            ))
            .or_default();
        e.0.push(t);
        e.1 += tshares[t as usize];
    }
    let share: f64 = groups.values().map(|g| g.1).sum();
    let mut regions = Vec::new();
    let mut truncated = false;
    let mut budget = CUBE_LIMIT;
    let mut ordered: Vec<_> = groups.into_iter().collect();
    ordered.sort_by(|x, y| {
        y.1 .1
            .partial_cmp(&x.1 .1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(x.0.cmp(&y.0))
    });
    for ((_, old_side, new_side), (terms, _)) in ordered {
        let target = |t: u32| terms.binary_search(&t).is_ok();
        let Some(cubes) = (if budget == 0 {
            None
        } else {
            v.cover(&target, budget)
        }) else {
            truncated = true;
            continue;
        };
        budget = budget.saturating_sub(cubes.len());
        let mut rs: Vec<(f64, String)> = cubes
            .iter()
            .map(|c| (v.cube_share(c), v.render(c)))
            .collect();
        rs.sort_by(|x, y| {
            y.0.partial_cmp(&x.0)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(x.1.cmp(&y.1))
        });
        for (s, condition) in rs {
            regions.push(DiffRegion {
                condition,
                share: s,
                old: old_side.clone(),
                new: new_side.clone(),
            });
        }
    }
    Ok(Diff {
        equivalent: p.pairs.is_empty(),
        share,
        removed_facts: removed,
        added_facts: added,
        regions,
        truncated,
    })
}

struct Product<'a> {
    a: (&'a [FlatNode], &'a [u32]),
    b: (&'a [FlatNode], &'a [u32]),
    level_of: &'a [u32],
    classes: &'a [Classes],
    sides_a: &'a [Side],
    sides_b: &'a [Side],
    nodes: Vec<FlatNode>,
    kids: Vec<u32>,
    unique: HashMap<(u32, Vec<u32>), u32>,
    memo: HashMap<(u32, u32), u32>,
    /// Differing terminal pairs; product terminal `i + 1` is `pairs[i]`, terminal 0 "same".
    pairs: Vec<(usize, usize)>,
    pair_ids: HashMap<(usize, usize), u32>,
    limit: usize,
}

impl Product<'_> {
    fn level(&self, g: (&[FlatNode], &[u32]), r: u32) -> (u32, Option<FlatNode>) {
        if r & TERMINAL != 0 {
            return (u32::MAX, None);
        }
        let n = g.0[r as usize];
        (self.level_of[n.fact as usize], Some(n))
    }

    fn build(&mut self, ra: u32, rb: u32) -> Result<u32, CompileError> {
        if let Some(r) = self.memo.get(&(ra, rb)) {
            return Ok(*r);
        }
        let (la, na) = self.level(self.a, ra);
        let (lb, nb) = self.level(self.b, rb);
        let r = if la == u32::MAX && lb == u32::MAX {
            let (x, y) = ((ra & !TERMINAL) as usize, (rb & !TERMINAL) as usize);
            if self.sides_a[x] == self.sides_b[y] {
                TERMINAL
            } else {
                let next = self.pairs.len() as u32 + 1;
                let id = *self.pair_ids.entry((x, y)).or_insert(next);
                if id == next {
                    self.pairs.push((x, y));
                }
                id | TERMINAL
            }
        } else {
            let top = la.min(lb);
            let fact = if la == top {
                na.map(|n| n.fact)
            } else {
                nb.map(|n| n.fact)
            }
            .unwrap_or(0);
            let width = self.classes[fact as usize].count();
            let mut kids = Vec::with_capacity(width);
            for c in 0..width {
                let ka = match na {
                    Some(n) if la == top => self.a.1[n.first as usize + c],
                    _ => ra,
                };
                let kb = match nb {
                    Some(n) if lb == top => self.b.1[n.first as usize + c],
                    _ => rb,
                };
                kids.push(self.build(ka, kb)?);
            }
            if kids.iter().all(|k| *k == kids[0]) {
                kids[0]
            } else if let Some(n) = self.unique.get(&(fact, kids.clone())) {
                *n
            } else {
                if self.nodes.len() + self.memo.len() >= self.limit {
                    return Err(CompileError::NodeLimit { limit: self.limit });
                }
                let id = self.nodes.len() as u32;
                self.nodes.push(FlatNode {
                    fact,
                    first: self.kids.len() as u32,
                });
                self.kids.extend_from_slice(&kids);
                self.unique.insert((fact, kids), id);
                id
            }
        };
        self.memo.insert((ra, rb), r);
        Ok(r)
    }
}
