//! Syntax: the pest grammar (`grammar/regain.pest`) and the typed AST it is turned into.

// LINT-WALL: temporary; the owner of this file removes this allow and fixes or justifies each case.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

pub mod ast;
mod parser;

pub(crate) use parser::parse_expr;
pub use parser::{is_keyword, parse, KEYWORDS, MAX_NESTING, MAX_SOURCE_BYTES};
