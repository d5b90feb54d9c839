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

use std::collections::HashMap;

use super::classes::{self, Classes};
use crate::check::ir::{Cond, CondKind, FactId, Ir, Test};
use crate::decision::Decision;

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
        if kids.iter().all(|k| *k == kids[0]) {
            return Ok(kids[0]);
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
            CondKind::And(xs) => {
                let mut acc = TRUE;
                for x in xs {
                    let n = self.cond(x, level_of, used)?;
                    acc = self.and(acc, n, used)?;
                    if acc == FALSE {
                        break;
                    }
                }
                Ok(acc)
            }
            CondKind::Or(xs) => {
                let mut acc = FALSE;
                for x in xs {
                    let n = self.cond(x, level_of, used)?;
                    acc = self.or(acc, n, used)?;
                    if acc == TRUE {
                        break;
                    }
                }
                Ok(acc)
            }
        }
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
/// facts tested most often, ties in declaration order.
fn fact_order(ir: &Ir, classes: &[Classes]) -> Vec<FactId> {
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
    for c in ir
        .paths
        .iter()
        .map(|p| &p.when)
        .chain(ir.methods.iter().map(|m| &m.requires))
    {
        tests.clear();
        c.tests(&mut tests);
        for t in &tests {
            count[t.fact().index()] += 1;
        }
    }
    let mut ids: Vec<usize> = (0..ir.facts.len())
        .filter(|i| count[*i] > 0 && classes[*i].count() > 1)
        .collect();
    ids.sort_by_key(|i| (!in_deny[*i], std::cmp::Reverse(count[*i]), *i));
    ids.into_iter().map(|i| FactId(i as u32)).collect()
}

/// Compile a checked policy.
pub(crate) fn compile(ir: &Ir, opts: CompileOptions) -> Result<Compiled, CompileError> {
    let classes = classes::compute(ir);
    let order = fact_order(ir, &classes);
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
        unique: HashMap::new(),
        and_memo: HashMap::new(),
        or_memo: HashMap::new(),
        not_memo: HashMap::new(),
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
    bdd.and_memo = HashMap::new();
    bdd.or_memo = HashMap::new();
    bdd.not_memo = HashMap::new();

    let mut p = Product {
        ir,
        bdd: &bdd,
        nd: ir.denies.len(),
        np: ir.paths.len(),
        method_paths: method_paths(ir),
        nodes: Vec::new(),
        kids: Vec::new(),
        unique: HashMap::new(),
        memo: HashMap::new(),
        decisions: Vec::new(),
        decision_ids: HashMap::new(),
        used,
        limit: opts.node_limit,
    };
    let mut state = roots;
    p.normalize(&mut state);
    let root = p.build(state)?;
    Ok(Compiled {
        classes: classes.clone(),
        order: order.clone(),
        nodes: p.nodes,
        kids: p.kids,
        decisions: p.decisions,
        root,
    })
}

/// For each method, the paths whose steps list it.
fn method_paths(ir: &Ir) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); ir.methods.len()];
    for (pi, p) in ir.paths.iter().enumerate() {
        for s in &p.steps {
            for m in s.methods() {
                if !out[m.index()].contains(&pi) {
                    out[m.index()].push(pi);
                }
            }
        }
    }
    out
}

struct Product<'a> {
    ir: &'a Ir,
    bdd: &'a Bdd<'a>,
    nd: usize,
    np: usize,
    method_paths: Vec<Vec<usize>>,
    nodes: Vec<FlatNode>,
    kids: Vec<u32>,
    unique: HashMap<(u32, Box<[u32]>), u32>,
    memo: HashMap<Box<[u32]>, u32>,
    decisions: Vec<Decision>,
    decision_ids: HashMap<Decision, u32>,
    used: usize,
    limit: usize,
}

impl Product<'_> {
    /// Clear parts of the state that cannot change the decision, so that more states
    /// coincide: everything but the deny rules once one deny holds; methods listed only
    /// by paths whose `when` is already false.
    fn normalize(&self, s: &mut [u32]) {
        let (nd, np) = (self.nd, self.np);
        if s[..nd].contains(&TRUE) {
            for x in &mut s[nd..] {
                *x = FALSE;
            }
            return;
        }
        for (m, paths) in self.method_paths.iter().enumerate() {
            if paths.iter().all(|p| s[nd + p] == FALSE) {
                s[nd + np + m] = FALSE;
            }
        }
        // Methods in no path never matter.
        for (m, paths) in self.method_paths.iter().enumerate() {
            if paths.is_empty() {
                s[nd + np + m] = FALSE;
            }
        }
    }

    fn build(&mut self, state: Vec<u32>) -> Result<u32, CompileError> {
        if let Some(r) = self.memo.get(state.as_slice()) {
            return Ok(*r);
        }
        let top = state
            .iter()
            .map(|n| self.bdd.level(*n))
            .min()
            .unwrap_or(u32::MAX);
        let r = if top == u32::MAX {
            self.terminal(&state)
        } else {
            let width = self.bdd.width(top);
            let mut kids = Vec::with_capacity(width);
            for c in 0..width {
                let mut child: Vec<u32> = state
                    .iter()
                    .map(|n| self.bdd.cofactor(*n, top, c))
                    .collect();
                self.normalize(&mut child);
                kids.push(self.build(child)?);
            }
            if kids.iter().all(|k| *k == kids[0]) {
                kids[0]
            } else {
                let fact = self.bdd.order[top as usize].0;
                let key = (fact, kids.into_boxed_slice());
                match self.unique.get(&key) {
                    Some(n) => *n,
                    None => {
                        self.used += 1;
                        if self.used > self.limit {
                            return Err(CompileError::NodeLimit { limit: self.limit });
                        }
                        let id = self.nodes.len() as u32;
                        self.nodes.push(FlatNode {
                            fact,
                            first: self.kids.len() as u32,
                        });
                        self.kids.extend_from_slice(&key.1);
                        self.unique.insert(key, id);
                        id
                    }
                }
            }
        };
        self.used += 1;
        if self.used > self.limit {
            return Err(CompileError::NodeLimit { limit: self.limit });
        }
        self.memo.insert(state.into_boxed_slice(), r);
        Ok(r)
    }

    fn terminal(&mut self, state: &[u32]) -> u32 {
        let (nd, np) = (self.nd, self.np);
        let d = Decision::assemble(
            self.ir,
            |i| state[i] == TRUE,
            |p| state[nd + p] == TRUE,
            |m| state[nd + np + m] == TRUE,
        );
        if let Some(id) = self.decision_ids.get(&d) {
            return *id | TERMINAL;
        }
        let id = self.decisions.len() as u32;
        self.decisions.push(d.clone());
        self.decision_ids.insert(d, id);
        id | TERMINAL
    }
}
