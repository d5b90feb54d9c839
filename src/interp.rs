//! The reference interpreter: DESIGN.md's "Meaning" evaluated directly on the IR.
//!
//! It is slow and obviously right; the compiled decision graph must agree with it on
//! every profile (tests and proptests check this).

use crate::check::ir::Ir;
use crate::decision::Decision;

/// The decision for dense profile `values` (one per fact, validated).
pub fn decide(ir: &Ir, values: &[i64]) -> Decision {
    Decision::assemble(
        ir,
        ir.denies
            .iter()
            .enumerate()
            .filter(|(_, d)| d.when.eval(values))
            .map(|(i, _)| i),
        ir.paths
            .iter()
            .enumerate()
            .filter(|(_, p)| p.when.eval(values))
            .map(|(i, _)| i),
        |m| ir.methods.get(m).is_some_and(|m| m.requires.eval(values)),
    )
}
