//! The reference interpreter: DESIGN.md's "Meaning" evaluated directly on the IR.
//!
//! It is slow and obviously right; the compiled decision graph must agree with it on
//! every profile (tests and proptests check this).

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::check::ir::Ir;
use crate::decision::Decision;

/// The decision for dense profile `values` (one per fact, validated).
pub fn decide(ir: &Ir, values: &[i64]) -> Decision {
    Decision::assemble(
        ir,
        (0..ir.denies.len()).filter(|d| ir.denies[*d].when.eval(values)),
        (0..ir.paths.len()).filter(|p| ir.paths[*p].when.eval(values)),
        |m| ir.methods[m].requires.eval(values),
    )
}
