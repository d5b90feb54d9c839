//! IR → reduced, ordered multi-valued decision diagram.
//!
//! 1. Classes: every fact's values are grouped into classes the policy cannot tell apart.
//! 2. Order: facts tested by deny rules first, then by how often they are tested.
//! 3. Every condition (deny rules, path `when`s, method `requires`) becomes a boolean
//!    MDD over that order (hash-consed, reduced).
//! 4. The decision graph is the product of those MDDs, built top-down with a memo on the
//!    vector of sub-diagrams; each terminal is one complete [`Decision`]. Equal sub-graphs
//!    are shared, and a node whose edges all lead to one child is skipped.
//!
//! A node limit bounds memory: exceeding it is an error, never a crash.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rustc_hash::FxHashMap as HashMap;

use super::classes::{self, Classes};
use crate::check::ir::{Cond, CondKind, FactId, Ir, Test};
use crate::decision::{Decision, Selection};

/// A reference to a node of the decision graph: an inner node, or a terminal when the
/// top bit is set.
pub(crate) const TERMINAL: u32 = 1 << 31;

/// Options for compilation.
#[derive(Clone, Copy, Debug)]
pub struct CompileOptions {
    /// The most nodes (boolean condition nodes plus decision-graph nodes) compilation may
    /// create before it gives up with [`CompileError::NodeLimit`].
    pub node_limit: usize,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            node_limit: 2_000_000,
        }
    }
}

/// Why compilation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// The graph would need more nodes than allowed.
    #[error("the decision graph needs more than {limit} nodes; simplify the policy or raise the node limit")]
    NodeLimit {
        /// The limit in force.
        limit: usize,
    },
}

/// An inner node in the flat, evaluation-ready form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FlatNode {
    /// The fact tested.
    pub fact: u32,
    /// Index of the first child in `kids`; the child for class `c` is `kids[first + c]`.
    pub first: u32,
}

/// The compiled graph in flat arrays.
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    pub classes: Vec<Classes>,
    pub order: Vec<FactId>,
    pub nodes: Vec<FlatNode>,
    pub kids: Vec<u32>,
    pub decisions: Vec<Decision>,
    pub root: u32,
}

const FALSE: u32 = 0;
const TRUE: u32 = 1;

/// Hash-consed boolean MDDs over the fact order.
struct Bdd<'a> {
    classes: &'a [Classes],
    order: &'a [FactId],
    /// Per node: (level, first kid). Nodes 0 and 1 are the terminals.
    nodes: Vec<(u32, u32)>,
    kids: Vec<u32>,
    unique: HashMap<(u32, Box<[u32]>), u32>,
    and_memo: HashMap<(u32, u32), u32>,
    or_memo: HashMap<(u32, u32), u32>,
    not_memo: HashMap<u32, u32>,
    limit: usize,
}

impl<'a> Bdd<'a> {
    fn level(&self, n: u32) -> u32 {
        self.nodes.get(n as usize).map_or(u32::MAX, |x| x.0)
    }

    fn width(&self, level: u32) -> usize {
        self.order
            .get(level as usize)
            .and_then(|f| self.classes.get(f.index()))
            .map_or(0, Classes::count)
    }

    fn kid(&self, n: u32, c: usize) -> u32 {
        let (_, first) = self.nodes[n as usize];
        self.kids[first as usize + c]
    }

    /// The cofactor of `n` for class `c` of `level`.
    fn cofactor(&self, n: u32, level: u32, c: usize) -> u32 {
        if self.level(n) == level {
            self.kid(n, c)
        } else {
            n
        }
    }

    fn mk(&mut self, level: u32, kids: Vec<u32>, used: &mut usize) -> Result<u32, CompileError> {
        match kids.first() {
            None => return Ok(FALSE),
            Some(k0) if kids.iter().all(|k| k == k0) => return Ok(*k0),
            _ => {}
        }
        let key = (level, kids.into_boxed_slice());
        if let Some(n) = self.unique.get(&key) {
            return Ok(*n);
        }
        *used += 1;
        if *used > self.limit {
            return Err(CompileError::NodeLimit { limit: self.limit });
        }
        let id = self.nodes.len() as u32;
        self.nodes.push((level, self.kids.len() as u32));
        self.kids.extend_from_slice(&key.1);
        self.unique.insert(key, id);
        Ok(id)
    }

    fn test(&mut self, t: &Test, level_of: &[u32], used: &mut usize) -> Result<u32, CompileError> {
        let f = t.fact().index();
        let level = level_of[f];
        let cls = &self.classes[f];
        let kids: Vec<u32> = (0..cls.count())
            .map(|c| {
                if t.holds(cls.representative(c)) {
                    TRUE
                } else {
                    FALSE
                }
            })
            .collect();
        self.mk(level, kids, used)
    }

    fn cond(&mut self, c: &Cond, level_of: &[u32], used: &mut usize) -> Result<u32, CompileError> {
        match &c.kind {
            CondKind::Const(b) => Ok(*b as u32),
            CondKind::Test(t) => self.test(t, level_of, used),
            CondKind::Not(x) => {
                let n = self.cond(x, level_of, used)?;
                self.not(n, used)
            }
            CondKind::And(xs) => self.fold(xs, true, level_of, used),
            CondKind::Or(xs) => self.fold(xs, false, level_of, used),
        }
    }

    /// An n-ary `and` (`is_and`) or `or`. The operands' diagrams are combined deepest
    /// first (by the level of their top test): each new operand then sits above the
    /// accumulated diagram, so a chain of `n` tests costs `O(n)` nodes and steps whatever
    /// the order in the source. Folding in source order instead rebuilds the whole
    /// accumulated diagram below each test that is deeper than it: `O(n²)` for a chain
    /// written in fact order.
    fn fold(
        &mut self,
        xs: &[Cond],
        is_and: bool,
        level_of: &[u32],
        used: &mut usize,
    ) -> Result<u32, CompileError> {
        // The absorbing element: FALSE for `and`, TRUE for `or`.
        let (unit, zero) = if is_and { (TRUE, FALSE) } else { (FALSE, TRUE) };
        let mut parts = Vec::with_capacity(xs.len());
        for x in xs {
            let n = self.cond(x, level_of, used)?;
            if n == zero {
                return Ok(zero);
            }
            if n != unit {
                parts.push(n);
            }
        }
        // Deepest top level first; ties by node id so that the result is deterministic.
        parts.sort_unstable_by_key(|n| (std::cmp::Reverse(self.level(*n)), *n));
        parts.dedup();
        let mut acc = unit;
        for n in parts {
            acc = if is_and {
                self.and(acc, n, used)?
            } else {
                self.or(acc, n, used)?
            };
            if acc == zero {
                break;
            }
        }
        Ok(acc)
    }

    fn not(&mut self, n: u32, used: &mut usize) -> Result<u32, CompileError> {
        if n <= TRUE {
            return Ok(1 - n);
        }
        if let Some(r) = self.not_memo.get(&n) {
            return Ok(*r);
        }
        let level = self.level(n);
        let mut kids = Vec::with_capacity(self.width(level));
        for c in 0..self.width(level) {
            let k = self.kid(n, c);
            kids.push(self.not(k, used)?);
        }
        let r = self.mk(level, kids, used)?;
        self.not_memo.insert(n, r);
        Ok(r)
    }

    fn and(&mut self, a: u32, b: u32, used: &mut usize) -> Result<u32, CompileError> {
        if a == FALSE || b == FALSE {
            return Ok(FALSE);
        }
        if a == TRUE || a == b {
            return Ok(b);
        }
        if b == TRUE {
            return Ok(a);
        }
        self.apply(a, b, true, used)
    }

    fn or(&mut self, a: u32, b: u32, used: &mut usize) -> Result<u32, CompileError> {
        if a == TRUE || b == TRUE {
            return Ok(TRUE);
        }
        if a == FALSE || a == b {
            return Ok(b);
        }
        if b == FALSE {
            return Ok(a);
        }
        self.apply(a, b, false, used)
    }

    fn apply(
        &mut self,
        a: u32,
        b: u32,
        is_and: bool,
        used: &mut usize,
    ) -> Result<u32, CompileError> {
        let key = (a.min(b), a.max(b));
        let memo = if is_and {
            &self.and_memo
        } else {
            &self.or_memo
        };
        if let Some(r) = memo.get(&key) {
            return Ok(*r);
        }
        let level = self.level(a).min(self.level(b));
        let mut kids = Vec::with_capacity(self.width(level));
        for c in 0..self.width(level) {
            let (x, y) = (self.cofactor(a, level, c), self.cofactor(b, level, c));
            kids.push(if is_and {
                self.and(x, y, used)?
            } else {
                self.or(x, y, used)?
            });
        }
        let r = self.mk(level, kids, used)?;
        if is_and {
            self.and_memo.insert(key, r);
        } else {
            self.or_memo.insert(key, r);
        }
        Ok(r)
    }
}

/// Fact order: facts tested by deny rules first (a deny cuts the whole graph), then the
/// facts tested most often (a method's tests count once per path that lists it), ties in
/// declaration order. Every tested fact with more than one class gets a level.
pub(crate) fn fact_order(ir: &Ir, classes: &[Classes]) -> Vec<FactId> {
    let mut count = vec![0usize; ir.facts.len()];
    let mut in_deny = vec![false; ir.facts.len()];
    let mut tests = Vec::new();
    for d in &ir.denies {
        tests.clear();
        d.when.tests(&mut tests);
        for t in &tests {
            in_deny[t.fact().index()] = true;
            count[t.fact().index()] += 1;
        }
    }
    let mut uses = vec![0usize; ir.methods.len()];
    for p in &ir.paths {
        for st in &p.steps {
            for m in st.methods() {
                uses[m.index()] += 1;
            }
        }
    }
    for p in &ir.paths {
        tests.clear();
        p.when.tests(&mut tests);
        for t in &tests {
            count[t.fact().index()] += 1;
        }
    }
    for (mi, m) in ir.methods.iter().enumerate() {
        tests.clear();
        m.requires.tests(&mut tests);
        for t in &tests {
            count[t.fact().index()] += 1 + uses[mi];
        }
    }
    let mut ids: Vec<usize> = (0..ir.facts.len())
        .filter(|i| count[*i] > 0 && classes[*i].count() > 1)
        .collect();
    ids.sort_by_key(|i| (!in_deny[*i], std::cmp::Reverse(count[*i]), *i));
    ids.into_iter().map(|i| FactId(i as u32)).collect()
}

/// Compile a checked policy. Runs on the big-stack worker ([`crate::stack::run_big`]):
/// safe to call from any thread.
pub(crate) fn compile(ir: &Ir, opts: CompileOptions) -> Result<Compiled, CompileError> {
    crate::stack::run_big(|| {
        let classes = classes::compute(ir);
        let order = fact_order(ir, &classes);
        compile_in(ir, classes, order, opts)
    })
}

/// Compile with given value classes and fact order (which must refine every test of
/// `ir` and list every tested fact that has more than one class). `diff` compiles two
/// versions of a policy this way so that their graphs can be walked together.
///
/// The diagrams are walked recursively (depth up to the number of facts), so this runs
/// itself on the big-stack worker ([`crate::stack::run_big`]; inline when the caller is
/// already there): safe to call from any thread.
pub(crate) fn compile_in(
    ir: &Ir,
    classes: Vec<Classes>,
    order: Vec<FactId>,
    opts: CompileOptions,
) -> Result<Compiled, CompileError> {
    crate::stack::run_big(|| compile_on_big_stack(ir, classes, order, opts))
}

fn compile_on_big_stack(
    ir: &Ir,
    classes: Vec<Classes>,
    order: Vec<FactId>,
    opts: CompileOptions,
) -> Result<Compiled, CompileError> {
    let mut level_of = vec![u32::MAX; ir.facts.len()];
    for (l, f) in order.iter().enumerate() {
        level_of[f.index()] = l as u32;
    }
    let mut used = 0usize;
    let mut bdd = Bdd {
        classes: &classes,
        order: &order,
        nodes: vec![(u32::MAX, 0), (u32::MAX, 0)],
        kids: Vec::new(),
        unique: HashMap::default(),
        and_memo: HashMap::default(),
        or_memo: HashMap::default(),
        not_memo: HashMap::default(),
        limit: opts.node_limit,
    };
    let mut roots = Vec::with_capacity(ir.denies.len() + ir.paths.len() + ir.methods.len());
    for c in ir
        .denies
        .iter()
        .map(|d| &d.when)
        .chain(ir.paths.iter().map(|p| &p.when))
        .chain(ir.methods.iter().map(|m| &m.requires))
    {
        roots.push(bdd.cond(c, &level_of, &mut used)?);
    }
    // Boolean memos are no longer needed.
    bdd.and_memo = HashMap::default();
    bdd.or_memo = HashMap::default();
    bdd.not_memo = HashMap::default();

    let mut p = Product {
        ir,
        bdd: &bdd,
        nd: ir.denies.len(),
        np: ir.paths.len(),
        nodes: Vec::new(),
        kids: Vec::new(),
        unique: SliceMap::new(),
        memo: SliceMap::new(),
        state_pool: Vec::new(),
        kid_pool: Vec::new(),
        scratch: Vec::new(),
        decisions: Vec::new(),
        decision_ids: HashMap::default(),
        offers: Default::default(),
        used,
        limit: opts.node_limit,
    };
    let mut state: Vec<(u32, u32)> = roots
        .into_iter()
        .enumerate()
        .filter(|(_, n)| *n != FALSE)
        .map(|(i, n)| (i as u32, n))
        .collect();
    p.normalize(&mut state);
    let root = p.build(&state)?;
    Ok(Compiled {
        classes: classes.clone(),
        order: order.clone(),
        nodes: p.nodes,
        kids: p.kids,
        decisions: p.decisions,
        root,
    })
}

/// A map from slices to `u32`, with every key stored in one arena: no allocation per
/// key, and one free at the end instead of one per state.
struct SliceMap<T: Copy + Eq + std::hash::Hash> {
    arena: Vec<T>,
    table: hashbrown::HashTable<(u32, u32, u32)>,
    hasher: rustc_hash::FxBuildHasher,
}

impl<T: Copy + Eq + std::hash::Hash> SliceMap<T> {
    fn new() -> Self {
        SliceMap {
            arena: Vec::new(),
            table: hashbrown::HashTable::new(),
            hasher: rustc_hash::FxBuildHasher,
        }
    }

    fn hash(&self, key: &[T]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(key)
    }

    fn get(&self, key: &[T]) -> Option<u32> {
        let h = self.hash(key);
        self.table
            .find(h, |(s, l, _)| {
                &self.arena[*s as usize..(*s + *l) as usize] == key
            })
            .map(|e| e.2)
    }

    fn insert(&mut self, key: &[T], value: u32) {
        let h = self.hash(key);
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(key);
        let (arena, hasher) = (&self.arena, &self.hasher);
        self.table
            .insert_unique(h, (start, key.len() as u32, value), |(s, l, _)| {
                use std::hash::BuildHasher;
                hasher.hash_one(&arena[*s as usize..(*s + *l) as usize])
            });
    }
}

/// The product construction. A state lists, for each condition that is not yet known to
/// be false, its index (deny rules, then path `when`s, then method `requires`) and its
/// current sub-diagram; it is sparse because most conditions become false quickly.
struct Product<'a> {
    ir: &'a Ir,
    bdd: &'a Bdd<'a>,
    nd: usize,
    np: usize,
    nodes: Vec<FlatNode>,
    kids: Vec<u32>,
    unique: SliceMap<u32>,
    memo: SliceMap<(u32, u32)>,
    /// Reused buffers for child states and children lists.
    state_pool: Vec<Vec<(u32, u32)>>,
    kid_pool: Vec<Vec<u32>>,
    /// Scratch buffers for `normalize`.
    scratch: Vec<u32>,
    decisions: Vec<Decision>,
    decision_ids: HashMap<Box<[u32]>, u32>,
    offers: std::collections::HashMap<Vec<u32>, std::sync::Arc<crate::decision::Offer>>,
    used: usize,
    limit: usize,
}

impl Product<'_> {
    /// Drop parts of the state that cannot change the decision, so that more states
    /// coincide: everything but the deny rules once one deny holds; paths with a step
    /// that can no longer get enough usable methods; methods listed only by paths that
    /// are already unavailable (or by no path).
    fn normalize(&mut self, s: &mut Vec<(u32, u32)>) {
        let (nd, np) = (self.nd as u32, self.np as u32);
        if s.iter().any(|(i, n)| *i < nd && *n == TRUE) {
            s.retain(|(i, _)| *i < nd);
            return;
        }
        let present = |s: &[(u32, u32)], i: u32| s.binary_search_by_key(&i, |(k, _)| *k).is_ok();
        // Paths that cannot be completed any more.
        let mut dead = std::mem::take(&mut self.scratch);
        dead.clear();
        dead.extend(
            s.iter()
                .filter(|(i, _)| *i >= nd && *i < nd + np)
                .filter(|(i, _)| {
                    let path = &self.ir.paths[(*i - nd) as usize];
                    path.steps.iter().any(|step| {
                        let usable = step
                            .methods()
                            .iter()
                            .filter(|m| present(s, nd + np + m.0))
                            .count();
                        usable < step.needed()
                    })
                })
                .map(|(i, _)| *i),
        );
        if !dead.is_empty() {
            s.retain(|(i, _)| dead.binary_search(i).is_err());
        }
        // Methods no live path lists.
        let first_method = s.partition_point(|(i, _)| *i < nd + np);
        if first_method < s.len() {
            let mut wanted = dead;
            wanted.clear();
            wanted.extend(
                s[..first_method]
                    .iter()
                    .filter(|(i, _)| *i >= nd)
                    .flat_map(|(i, _)| self.ir.paths[(*i - nd) as usize].steps.iter())
                    .flat_map(|step| step.methods().iter().map(|m| nd + np + m.0)),
            );
            wanted.sort_unstable();
            wanted.dedup();
            s.retain(|(i, _)| *i < nd + np || wanted.binary_search(i).is_ok());
            self.scratch = wanted;
        } else {
            self.scratch = dead;
        }
    }

    fn build(&mut self, state: &[(u32, u32)]) -> Result<u32, CompileError> {
        if let Some(r) = self.memo.get(state) {
            return Ok(r);
        }
        let top = state
            .iter()
            .map(|(_, n)| self.bdd.level(*n))
            .min()
            .unwrap_or(u32::MAX);
        let r = if top == u32::MAX {
            self.terminal(state)
        } else {
            let width = self.bdd.width(top);
            let mut kids = self.kid_pool.pop().unwrap_or_default();
            kids.clear();
            for c in 0..width {
                // Child states come from a pool of buffers: no allocation per edge.
                let mut child = self.state_pool.pop().unwrap_or_default();
                child.clear();
                child.extend(
                    state
                        .iter()
                        .map(|(i, n)| (*i, self.bdd.cofactor(*n, top, c)))
                        .filter(|(_, n)| *n != FALSE),
                );
                self.normalize(&mut child);
                let k = self.build(&child);
                self.state_pool.push(child);
                kids.push(k?);
            }
            let r = if kids.iter().all(|k| *k == kids[0]) {
                kids[0]
            } else {
                let fact = self.bdd.order[top as usize].0;
                // Key: the fact, then the children.
                kids.insert(0, fact);
                match self.unique.get(&kids) {
                    Some(n) => n,
                    None => {
                        self.bump()?;
                        let id = self.nodes.len() as u32;
                        self.nodes.push(FlatNode {
                            fact,
                            first: self.kids.len() as u32,
                        });
                        self.kids.extend_from_slice(&kids[1..]);
                        self.unique.insert(&kids, id);
                        id
                    }
                }
            };
            self.kid_pool.push(kids);
            r
        };
        self.bump()?;
        self.memo.insert(state, r);
        Ok(r)
    }

    fn bump(&mut self) -> Result<(), CompileError> {
        self.used += 1;
        if self.used > self.limit {
            Err(CompileError::NodeLimit { limit: self.limit })
        } else {
            Ok(())
        }
    }

    /// A terminal state: every listed condition is true, every other one false.
    fn terminal(&mut self, state: &[(u32, u32)]) -> u32 {
        let (nd, np) = (self.nd, self.np);
        let holds = |i: usize| state.binary_search_by_key(&(i as u32), |(k, _)| *k).is_ok();
        let denies = state
            .iter()
            .map(|(i, _)| *i as usize)
            .take_while(|i| *i < nd);
        let paths = state
            .iter()
            .map(|(i, _)| *i as usize)
            .filter(|i| *i >= nd && *i < nd + np)
            .map(|i| i - nd);
        let sel = Selection::new(self.ir, denies, paths, |m| holds(nd + np + m));
        let key = sel.key().into_boxed_slice();
        if let Some(id) = self.decision_ids.get(&key) {
            return *id | TERMINAL;
        }
        let id = self.decisions.len() as u32;
        self.decisions.push(sel.decision(self.ir, &mut self.offers));
        self.decision_ids.insert(key, id);
        id | TERMINAL
    }
}
