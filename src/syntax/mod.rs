//! Syntax: the pest grammar (`grammar/regain.pest`) and the typed AST it is turned into.

pub mod ast;
mod error;
mod parser;

pub(crate) use parser::parse_expr;
pub use parser::{is_keyword, parse, KEYWORDS, MAX_NESTING, MAX_SOURCE_BYTES};
