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

use rustc_hash::FxHashMap as HashMap;

use super::classes::{self, Classes};
use crate::check::ir::{Cond, CondKind, FactId, Ir, Test};
use crate::decision::{decision_of_key, selection_key, Decision, OfferCache};

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
    /// The graph would need more edges than allowed (eight per allowed node): a fact
    /// with very many value classes tested in very many places.
    #[error("the decision graph needs more than {limit} edges; simplify the policy or raise the node limit")]
    EdgeLimit {
        /// The edge limit in force (eight times the node limit).
        limit: usize,
    },
    /// [`compile_in`] was given value classes or a fact order that do not fit the policy:
    /// a bug in the caller, reported instead of a crash.
    #[error("internal error: the value classes or the fact order given to the compiler do not fit the policy")]
    Mismatch,
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

impl Bdd<'_> {
    /// The level of node `n`'s test (`u32::MAX` for the terminals).
    #[inline]
    fn level(&self, n: u32) -> u32 {
        self.nodes.get(n as usize).map_or(u32::MAX, |x| x.0)
    }

    /// How many classes the fact at `level` has (0 below the last level).
    fn width(&self, level: u32) -> usize {
        self.order
            .get(level as usize)
            .and_then(|f| self.classes.get(f.index()))
            .map_or(0, Classes::count)
    }

    /// Child `c` of inner node `n`.
    #[inline]
    #[allow(
        clippy::indexing_slicing,
        reason = "node ids and kid offsets are created by `mk`, which stores one kid per class"
    )]
    fn kid(&self, n: u32, c: usize) -> u32 {
        let (_, first) = self.nodes[n as usize];
        self.kids[first as usize + c]
    }

    /// The cofactor of `n` for class `c` of `level`.
    #[inline]
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
        check_edges(self.kids.len() + key.1.len(), self.limit)?;
        let id = index_u32(self.nodes.len(), self.limit)?;
        let first = index_u32(self.kids.len(), self.limit)?;
        self.nodes.push((level, first));
        self.kids.extend_from_slice(&key.1);
        self.unique.insert(key, id);
        Ok(id)
    }

    fn test(&mut self, t: &Test, level_of: &[u32], used: &mut usize) -> Result<u32, CompileError> {
        let f = t.fact().index();
        let (Some(level), Some(cls)) = (level_of.get(f), self.classes.get(f)) else {
            return Err(CompileError::Mismatch);
        };
        let kids: Vec<u32> = (0..cls.count())
            .map(|c| u32::from(t.holds(cls.representative(c))))
            .collect();
        self.mk(*level, kids, used)
    }

    /// The diagram of a condition. Recursive over the condition's nesting, which the
    /// parser bounds (`syntax::MAX_NESTING`).
    fn cond(&mut self, c: &Cond, level_of: &[u32], used: &mut usize) -> Result<u32, CompileError> {
        match &c.kind {
            CondKind::Const(b) => Ok(u32::from(*b)),
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
        // The neutral and the absorbing element.
        let (unit, zero) = if is_and { (TRUE, FALSE) } else { (FALSE, TRUE) };
        let mut parts = Vec::with_capacity(xs.len());
        // Tests of one fact are combined class by class into one node, without a node
        // per test: `x == 1 or x == 2 or …` over a fact with many classes would otherwise
        // build one wide node per test and per intermediate result.
        let mut by_fact: Vec<(usize, Vec<&Test>)> = Vec::new();
        let mut slot_of: HashMap<usize, usize> = HashMap::default();
        for x in xs {
            let n = match &x.kind {
                CondKind::Test(t) => {
                    let f = t.fact().index();
                    let slot = *slot_of.entry(f).or_insert_with(|| {
                        by_fact.push((f, Vec::new()));
                        by_fact.len() - 1
                    });
                    if let Some((_, ts)) = by_fact.get_mut(slot) {
                        ts.push(t);
                    }
                    continue;
                }
                _ => self.cond(x, level_of, used)?,
            };
            if n == zero {
                return Ok(zero);
            }
            if n != unit {
                parts.push(n);
            }
        }
        for (f, ts) in &by_fact {
            let n = match ts.as_slice() {
                [t] => self.test(t, level_of, used)?,
                _ => {
                    let (Some(level), Some(cls)) = (level_of.get(*f), self.classes.get(*f)) else {
                        return Err(CompileError::Mismatch);
                    };
                    let all = ts.len() as u32;
                    let kids: Vec<u32> = holding_counts(cls, ts)
                        .into_iter()
                        .map(|n| u32::from(if is_and { n == all } else { n > 0 }))
                        .collect();
                    self.mk(*level, kids, used)?
                }
            };
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
            return Ok(TRUE - n);
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

/// Per class of `cls`, how many of the tests `ts` (all of that fact) hold. For ints,
/// each test is evaluated once per run of classes between its cuts (a difference array
/// sums the runs), so the cost is linear in the classes plus the tests' cuts rather than
/// their product.
fn holding_counts(cls: &Classes, ts: &[&Test]) -> Vec<u32> {
    let w = cls.count();
    let Classes::Int { starts, .. } = cls else {
        return (0..w)
            .map(|c| {
                let v = cls.representative(c);
                ts.iter().filter(|t| t.holds(v)).count() as u32
            })
            .collect();
    };
    let mut diff = vec![0i64; w + 1];
    let mut bounds = Vec::new();
    for t in ts {
        bounds.clear();
        bounds.push(0usize);
        // The class holding each cut: the test is constant between them (classes
        // refine every test).
        bounds.extend(
            t.cuts()
                .into_iter()
                .map(|c| starts.partition_point(|s| *s <= c))
                .filter(|k| *k >= 1)
                .map(|k| k - 1),
        );
        bounds.push(w);
        bounds.sort_unstable();
        bounds.dedup();
        for run in bounds.windows(2) {
            if let [a, b] = run {
                if t.holds(cls.representative(*a)) {
                    if let Some(d) = diff.get_mut(*a) {
                        *d += 1;
                    }
                    if let Some(d) = diff.get_mut(*b) {
                        *d -= 1;
                    }
                }
            }
        }
    }
    let mut acc = 0i64;
    diff.iter()
        .take(w)
        .map(|d| {
            acc += d;
            acc as u32
        })
        .collect()
}

/// Memory is bounded by the node limit: the edges (children of all nodes, which grow
/// with the facts' numbers of classes) may number at most eight per allowed node.
fn check_edges(edges: usize, node_limit: usize) -> Result<(), CompileError> {
    let limit = node_limit.saturating_mul(8);
    if edges > limit {
        Err(CompileError::EdgeLimit { limit })
    } else {
        Ok(())
    }
}

/// `i` as a `u32` index, or the node-limit error when the arrays outgrow 32-bit indices
/// (which the node limit normally prevents long before).
fn index_u32(i: usize, limit: usize) -> Result<u32, CompileError> {
    u32::try_from(i)
        .ok()
        .filter(|i| *i & TERMINAL == 0)
        .ok_or(CompileError::NodeLimit { limit })
}

/// The tests of a condition, appended to `out` (iteratively).
fn tests_of<'a>(c: &'a Cond, out: &mut Vec<&'a Test>) {
    let mut stack = vec![c];
    while let Some(c) = stack.pop() {
        match &c.kind {
            CondKind::Const(_) => {}
            CondKind::Test(t) => out.push(t),
            CondKind::Not(x) => stack.push(x),
            CondKind::And(xs) | CondKind::Or(xs) => stack.extend(xs.iter().rev()),
        }
    }
}

/// Fact order: facts tested by deny rules first (a deny cuts the whole graph), then the
/// facts tested most often (a method's tests count once per path that lists it), ties in
/// declaration order. Every tested fact with more than one class gets a level.
pub(crate) fn fact_order(ir: &Ir, classes: &[Classes]) -> Vec<FactId> {
    let n = ir.facts.len();
    let mut count = vec![0usize; n];
    let mut in_deny = vec![false; n];
    let mut add = |c: &Cond, weight: usize, deny: bool| {
        let mut tests = Vec::new();
        tests_of(c, &mut tests);
        for t in &tests {
            let f = t.fact().index();
            if let Some(k) = count.get_mut(f) {
                *k += weight;
            }
            if let (true, Some(d)) = (deny, in_deny.get_mut(f)) {
                *d = true;
            }
        }
    };
    for d in &ir.denies {
        add(&d.when, 1, true);
    }
    for p in &ir.paths {
        add(&p.when, 1, false);
    }
    let mut uses = vec![0usize; ir.methods.len()];
    for m in ir
        .paths
        .iter()
        .flat_map(|p| &p.steps)
        .flat_map(|s| s.methods())
    {
        if let Some(u) = uses.get_mut(m.index()) {
            *u += 1;
        }
    }
    for (m, u) in ir.methods.iter().zip(&uses) {
        add(&m.requires, 1 + u, false);
    }
    let mut ids: Vec<(bool, usize, usize)> = (0..n)
        .filter_map(|i| {
            let c = count.get(i).copied().unwrap_or(0);
            let wide = classes.get(i).is_some_and(|cl| cl.count() > 1);
            let deny = in_deny.get(i).copied().unwrap_or(false);
            (c > 0 && wide).then_some((!deny, usize::MAX - c, i))
        })
        .collect();
    ids.sort_unstable();
    ids.into_iter().map(|(_, _, i)| FactId(i as u32)).collect()
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
    if classes.len() != ir.facts.len() {
        return Err(CompileError::Mismatch);
    }
    let mut level_of = vec![u32::MAX; ir.facts.len()];
    for (l, f) in order.iter().enumerate() {
        match level_of.get_mut(f.index()) {
            Some(slot) if *slot == u32::MAX => *slot = l as u32,
            _ => return Err(CompileError::Mismatch),
        }
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
    bdd.unique = HashMap::default();

    let mut p = Product::new(ir, &bdd, used, opts.node_limit);
    let mut state: Vec<(u32, u32)> = roots
        .into_iter()
        .enumerate()
        .filter(|(_, n)| *n != FALSE)
        .map(|(i, n)| (i as u32, n))
        .collect();
    p.normalize(&mut state);
    let root = p.build(&state)?;
    let (nodes, kids, decisions) = (p.nodes, p.kids, p.decisions);
    Ok(Compiled {
        classes,
        order,
        nodes,
        kids,
        decisions,
        root,
    })
}

/// A fast hash of a slice of words: one folded 64×64→128-bit multiply per two words
/// (as foldhash does), so that a state of `n` packed (condition, sub-diagram) pairs
/// costs `n / 2` multiplies. Only the low 32 bits are kept, stored with the entry.
#[inline]
fn hash_words(key: &[u32]) -> u32 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    const L: u64 = 0xA076_1D64_78BD_642F;
    let fold = |a: u64, b: u64| {
        let p = u128::from(a) * u128::from(b);
        (p as u64) ^ ((p >> 64) as u64)
    };
    let mut h = fold(key.len() as u64 ^ L, K);
    let mut pairs = key.chunks_exact(2);
    for w in &mut pairs {
        let (a, b) = (w.first().copied(), w.get(1).copied());
        let word = u64::from(a.unwrap_or(0)) | (u64::from(b.unwrap_or(0)) << 32);
        h = fold(h ^ word, K);
    }
    if let [w] = pairs.remainder() {
        h = fold(h ^ u64::from(*w), L);
    }
    (h ^ (h >> 32)) as u32
}

/// One slot of a [`SliceMap`]: the key's hash and where its record sits in the arena
/// ([`FREE`] for a free slot).
#[derive(Clone, Copy)]
struct Slot {
    hash: u32,
    at: u32,
}

/// A free [`Slot`]: no record starts at `u32::MAX` (arena offsets are checked).
const FREE: Slot = Slot {
    hash: 0,
    at: u32::MAX,
};

/// The table grows when more than `LOAD_NUM / LOAD_DEN` of its slots would be taken.
const LOAD_NUM: usize = 3;
const LOAD_DEN: usize = 4;

/// A map from slices to `u32`, with every key stored in one arena as a record
/// `[value, len, key...]`: no allocation per key, and one free at the end instead of
/// one per state.
///
/// The table is open addressing with linear probing over 8-byte slots (a key's hash
/// and its record's offset; eight slots share a cache line), so that a lookup costs one
/// cache miss for the slot and one for the record, read only when the hashes agree.
/// Small slots keep the tables of a large compile inside the last-level cache, which
/// matters more than anything else here. Growing never rehashes a key: slots keep
/// their hash.
struct SliceMap {
    arena: Vec<u32>,
    /// A power of two long (or empty), with at least one free slot.
    slots: Vec<Slot>,
    count: usize,
}

impl SliceMap {
    fn new() -> Self {
        SliceMap {
            arena: Vec::new(),
            slots: Vec::new(),
            count: 0,
        }
    }

    /// The value and key of the record at `at`.
    #[inline]
    fn record(&self, at: u32) -> Option<(u32, &[u32])> {
        let at = at as usize;
        let (value, len) = (*self.arena.get(at)?, *self.arena.get(at + 1)? as usize);
        Some((value, self.arena.get(at + 2..at + 2 + len)?))
    }

    #[inline]
    fn get(&self, hash: u32, key: &[u32]) -> Option<u32> {
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = hash as usize & mask;
        // Terminates: some slot is always free.
        loop {
            let s = self.slots.get(i)?;
            if s.at == FREE.at {
                return None;
            }
            if s.hash == hash {
                if let Some((value, k)) = self.record(s.at) {
                    if k == key {
                        return Some(value);
                    }
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Start loading the slot where a lookup of `hash` begins, so that the lookup
    /// itself finds it in the cache.
    #[inline]
    fn prefetch(&self, hash: u32) {
        let i = hash as usize & self.slots.len().wrapping_sub(1);
        if let Some(s) = self.slots.get(i) {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a prefetch is a hint that never faults nor reads into the program;
            // the pointer is to a live slot anyway.
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(s).cast());
            }
            #[cfg(not(target_arch = "x86_64"))]
            let _ = s;
        }
    }

    /// Put `slot` in the first free slot of its probe sequence.
    #[inline]
    fn place(slots: &mut [Slot], slot: Slot) {
        let mask = slots.len().wrapping_sub(1);
        let mut i = slot.hash as usize & mask;
        while let Some(s) = slots.get_mut(i) {
            if s.at == FREE.at {
                *s = slot;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Insert a key known to be absent. Fails (as the node limit) only if the arena
    /// outgrows 32-bit offsets.
    fn insert(
        &mut self,
        hash: u32,
        key: &[u32],
        value: u32,
        limit: usize,
    ) -> Result<(), CompileError> {
        let at = index_u32(self.arena.len(), limit)?;
        let len = index_u32(key.len(), limit)?;
        if at.checked_add(len).and_then(|e| e.checked_add(2)).is_none() || at == FREE.at {
            return Err(CompileError::NodeLimit { limit });
        }
        if (self.count + 1) * LOAD_DEN > self.slots.len() * LOAD_NUM {
            let size = (self.slots.len() * 2).max(64);
            let old = std::mem::replace(&mut self.slots, vec![FREE; size]);
            for s in old.into_iter().filter(|s| s.at != FREE.at) {
                Self::place(&mut self.slots, s);
            }
        }
        self.arena.reserve(key.len() + 2);
        self.arena.push(value);
        self.arena.push(len);
        self.arena.extend_from_slice(key);
        Self::place(&mut self.slots, Slot { hash, at });
        self.count += 1;
        Ok(())
    }
}

/// A child state, the hash of its packed key, and the earlier sibling it equals.
type Sibling = (Vec<(u32, u32)>, u32, Option<u32>);

/// The structure of one path for [`Product::normalize`]: per step, how many methods it
/// needs and the condition indices of its methods.
struct PathShape {
    steps: Vec<(usize, Vec<u32>)>,
}

/// The product construction. A state lists, for each condition that is not yet known to
/// be false, its index (deny rules, then path `when`s, then method `requires`) and its
/// current sub-diagram; it is sparse because most conditions become false quickly.
struct Product<'a> {
    ir: &'a Ir,
    bdd: &'a Bdd<'a>,
    nd: u32,
    np: u32,
    shapes: Vec<PathShape>,
    nodes: Vec<FlatNode>,
    kids: Vec<u32>,
    unique: SliceMap,
    /// States by their packed key ([`Product::pack`]).
    memo: SliceMap,
    /// How a state's (condition, sub-diagram) pairs are packed into memo keys: one word
    /// `condition << shift | node` when both fit in 32 bits, else two words.
    shift: Option<u32>,
    /// The key of the state being looked up or stored.
    key: Vec<u32>,
    /// Reused buffers for child states and children lists.
    state_pool: Vec<Vec<(u32, u32)>>,
    /// Reused lists of a node's child states, with their hashes and the earlier
    /// sibling each equals, if any.
    sib_pool: Vec<Vec<Sibling>>,
    kid_pool: Vec<Vec<u32>>,
    /// Per condition index: present in the state being normalized.
    present: Vec<bool>,
    /// Per condition index: a method listed by a live path (during `normalize`).
    wanted: Vec<bool>,
    decisions: Vec<Decision>,
    decision_ids: SliceMap,
    offers: OfferCache,
    used: usize,
    limit: usize,
}

impl<'a> Product<'a> {
    fn new(ir: &'a Ir, bdd: &'a Bdd<'a>, used: usize, limit: usize) -> Self {
        let (nd, np) = (ir.denies.len() as u32, ir.paths.len() as u32);
        let shapes = ir
            .paths
            .iter()
            .map(|p| PathShape {
                steps: p
                    .steps
                    .iter()
                    .map(|st| {
                        let ms = st.methods().iter().map(|m| nd + np + m.0).collect();
                        (st.needed(), ms)
                    })
                    .collect(),
            })
            .collect();
        let total = ir.denies.len() + ir.paths.len() + ir.methods.len();
        Product {
            ir,
            bdd,
            nd,
            np,
            shapes,
            nodes: Vec::new(),
            kids: Vec::new(),
            unique: SliceMap::new(),
            memo: SliceMap::new(),
            shift: {
                let bits = |n: usize| usize::BITS - n.leading_zeros();
                let (node_bits, cond_bits) = (bits(bdd.nodes.len()), bits(total));
                (node_bits + cond_bits <= 32 && !wide_keys()).then_some(node_bits)
            },
            key: Vec::new(),
            state_pool: Vec::new(),
            sib_pool: Vec::new(),
            kid_pool: Vec::new(),
            present: vec![false; total],
            wanted: vec![false; total],
            decisions: Vec::new(),
            decision_ids: SliceMap::new(),
            offers: Default::default(),
            used,
            limit,
        }
    }

    /// Drop parts of the state that cannot change the decision, so that more states
    /// coincide: everything but the deny rules once one deny holds; paths with a step
    /// that can no longer get enough usable methods; methods listed only by paths that
    /// are already unavailable (or by no path).
    fn normalize(&mut self, s: &mut Vec<(u32, u32)>) {
        let (nd, np) = (self.nd, self.np);
        if s.iter().any(|(i, n)| *i < nd && *n == TRUE) {
            s.retain(|(i, _)| *i < nd);
            return;
        }
        let (present, wanted, shapes) = (&mut self.present, &mut self.wanted, &self.shapes);
        let flag = |v: &[bool], i: u32| v.get(i as usize).copied().unwrap_or(false);
        for (i, _) in s.iter() {
            if let Some(p) = present.get_mut(*i as usize) {
                *p = true;
            }
        }
        // Live paths (every step can still get enough usable methods) mark their
        // methods wanted; dead paths and unwanted methods are dropped.
        for (i, _) in s.iter().filter(|(i, _)| *i >= nd && *i < nd + np) {
            let Some(shape) = shapes.get((*i - nd) as usize) else {
                continue;
            };
            let live = shape
                .steps
                .iter()
                .all(|(needed, ms)| ms.iter().filter(|m| flag(present, **m)).count() >= *needed);
            if !live {
                if let Some(p) = present.get_mut(*i as usize) {
                    *p = false;
                }
                continue;
            }
            for m in shape.steps.iter().flat_map(|(_, ms)| ms) {
                if let Some(w) = wanted.get_mut(*m as usize) {
                    *w = true;
                }
            }
        }
        // `keep(i)` reads only the flags of `i`, so each entry's `present` flag can be
        // cleared as soon as it is decided: the flags are reset without a pass over all
        // conditions.
        s.retain(|(i, _)| {
            let keep = *i < nd || (*i < nd + np && flag(present, *i)) || flag(wanted, *i);
            if let Some(p) = present.get_mut(*i as usize) {
                *p = false;
            }
            keep
        });
        // The paths left are the live ones: clear the methods they marked.
        for (i, _) in s.iter().filter(|(i, _)| *i >= nd && *i < nd + np) {
            let Some(shape) = shapes.get((*i - nd) as usize) else {
                continue;
            };
            for m in shape.steps.iter().flat_map(|(_, ms)| ms) {
                if let Some(w) = wanted.get_mut(*m as usize) {
                    *w = false;
                }
            }
        }
    }

    /// The memo key of `state`, in `self.key`.
    fn pack(&mut self, state: &[(u32, u32)]) {
        self.key.clear();
        match self.shift {
            Some(shift) => self.key.extend(state.iter().map(|(i, n)| (i << shift) | n)),
            None => self.key.extend(state.iter().flat_map(|(i, n)| [*i, *n])),
        }
    }

    fn build(&mut self, state: &[(u32, u32)]) -> Result<u32, CompileError> {
        self.pack(state);
        let hash = hash_words(&self.key);
        self.lookup_or_build(state, hash)
    }

    /// The node of `state`, whose packed key hashes to `hash`: from the memo, or built.
    fn lookup_or_build(&mut self, state: &[(u32, u32)], hash: u32) -> Result<u32, CompileError> {
        self.pack(state);
        match self.memo.get(hash, &self.key) {
            Some(r) => Ok(r),
            None => self.build_new(state, hash),
        }
    }

    /// Build the node of a state that is not in the memo yet, and remember it.
    fn build_new(&mut self, state: &[(u32, u32)], hash: u32) -> Result<u32, CompileError> {
        let top = state
            .iter()
            .map(|(_, n)| self.bdd.level(*n))
            .min()
            .unwrap_or(u32::MAX);
        let r = if top == u32::MAX {
            self.terminal(state)?
        } else {
            let width = self.bdd.width(top);
            let mut kids = self.kid_pool.pop().unwrap_or_default();
            kids.clear();
            let fact = self.bdd.order.get(top as usize).map_or(0, |f| f.0);
            // Key: the fact, then the children.
            kids.push(fact);
            // All child states first, with their hashes: a child equal to an earlier
            // sibling (a fifth of all children in large policies) takes its node
            // without a lookup, and the memo slots of the others are fetched from
            // memory together instead of one cache miss after another.
            let mut sibs = self.sib_pool.pop().unwrap_or_default();
            sibs.clear();
            for c in 0..width {
                // Child states come from a pool of buffers: no allocation per edge.
                let mut child = self.state_pool.pop().unwrap_or_default();
                child.clear();
                let (nd, bdd) = (self.nd, self.bdd);
                let mut changed = false;
                child.extend(state.iter().filter_map(|(i, n)| {
                    let k = bdd.cofactor(*n, top, c);
                    // A condition that became false, or a deny rule that now holds, can
                    // change what `normalize` drops; otherwise the child is normal.
                    changed |= k == FALSE || (*i < nd && k == TRUE);
                    (k != FALSE).then_some((*i, k))
                }));
                if changed {
                    self.normalize(&mut child);
                }
                self.pack(&child);
                let h = hash_words(&self.key);
                let same = sibs
                    .iter()
                    .position(|(s, sh, _)| *sh == h && *s == child)
                    .and_then(|j| u32::try_from(j).ok());
                if same.is_none() {
                    self.memo.prefetch(h);
                }
                sibs.push((child, h, same));
            }
            for j in 0..sibs.len() {
                let k = match sibs.get(j) {
                    // `kids` holds the fact, then one node per earlier child.
                    Some((_, _, Some(same))) => kids.get(*same as usize + 1).copied(),
                    Some((child, h, None)) => Some(self.lookup_or_build(child, *h)?),
                    None => None,
                };
                kids.extend(k);
            }
            for (child, _, _) in sibs.drain(..) {
                self.state_pool.push(child);
            }
            self.sib_pool.push(sibs);
            let r = match kids.get(1..) {
                Some([k0, rest @ ..]) if rest.iter().all(|k| k == k0) => *k0,
                _ => {
                    let h = hash_words(&kids);
                    match self.unique.get(h, &kids) {
                        Some(n) => n,
                        None => {
                            self.bump()?;
                            check_edges(self.kids.len() + kids.len(), self.limit)?;
                            let id = index_u32(self.nodes.len(), self.limit)?;
                            let first = index_u32(self.kids.len(), self.limit)?;
                            self.nodes.push(FlatNode { fact, first });
                            self.kids.extend(kids.iter().skip(1));
                            self.unique.insert(h, &kids, id, self.limit)?;
                            id
                        }
                    }
                }
            };
            self.kid_pool.push(kids);
            r
        };
        self.bump()?;
        self.pack(state);
        self.memo.insert(hash, &self.key, r, self.limit)?;
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
    fn terminal(&mut self, state: &[(u32, u32)]) -> Result<u32, CompileError> {
        let (nd, np) = (self.nd as usize, self.np as usize);
        let holds = |i: usize| state.binary_search_by_key(&(i as u32), |(k, _)| *k).is_ok();
        let denies = || {
            state
                .iter()
                .map(|(i, _)| *i as usize)
                .take_while(move |i| *i < nd)
        };
        let paths = || {
            state
                .iter()
                .map(|(i, _)| *i as usize)
                .filter(move |i| *i >= nd && *i < nd + np)
                .map(move |i| i - nd)
        };
        let usable = |m: usize| holds(nd + np + m);
        // The key first: most terminal states repeat a decision already made, and a new
        // one is built from the key alone.
        let mut key = std::mem::take(&mut self.key);
        selection_key(self.ir, denies(), paths(), usable, &mut key);
        let hash = hash_words(&key);
        let r = match self.decision_ids.get(hash, &key) {
            Some(id) => Ok(id | TERMINAL),
            None => index_u32(self.decisions.len(), self.limit).and_then(|id| {
                let d = decision_of_key(self.ir, &key, &mut self.offers);
                self.decisions.push(d);
                self.decision_ids.insert(hash, &key, id, self.limit)?;
                Ok(id | TERMINAL)
            }),
        };
        self.key = key;
        r
    }
}

/// Whether tests asked for two-word memo keys.
#[cfg(test)]
fn wide_keys() -> bool {
    tests::wide_keys()
}

#[cfg(not(test))]
#[inline]
fn wide_keys() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Memo keys of two words per pair, as for graphs too large to pack them.
    static WIDE: AtomicBool = AtomicBool::new(false);

    pub(super) fn wide_keys() -> bool {
        WIDE.load(Ordering::Relaxed)
    }

    #[test]
    fn packed_and_wide_memo_keys_build_the_same_graph() {
        let src =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/bank.regain"))
                .unwrap();
        let policy = crate::Policy::parse(&src).unwrap();
        let packed = super::compile(policy.ir(), super::CompileOptions::default()).unwrap();
        // Other tests compiling meanwhile take the wide keys too, which is harmless:
        // both ways must build the same graph.
        WIDE.store(true, Ordering::Relaxed);
        let wide = super::compile(policy.ir(), super::CompileOptions::default());
        WIDE.store(false, Ordering::Relaxed);
        let wide = wide.unwrap();
        assert!(packed.nodes.len() > 1000);
        assert_eq!(packed.nodes, wide.nodes);
        assert_eq!(packed.kids, wide.kids);
        assert_eq!(packed.root, wide.root);
        assert_eq!(packed.decisions, wide.decisions);
    }
}
