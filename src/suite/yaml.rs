//! YAML with source positions: saphyr's marked nodes, copied into a small owned tree so
//! that every error of a suite can name the line and column of the node it is about.

use std::collections::{HashMap, HashSet};

use saphyr::Scalar;
use saphyr_parser::{Event, Parser, Tag};

use crate::profile::Node;

/// Deeper nesting than this is refused (a suite is a few levels deep; the bound keeps
/// the drop of the tree, and any walk over it, on small stacks).
pub(crate) const MAX_DEPTH: usize = 64;

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub line: usize,
    pub col: usize,
}

/// A YAML node with its position.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Y {
    pub pos: Pos,
    pub kind: Kind,
}

/// What a node holds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Y>),
    Map(Vec<(Y, Y)>),
}

/// A YAML error at a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub pos: Pos,
    pub message: String,
}

fn pos_of(m: &saphyr_parser::Marker) -> Pos {
    Pos {
        line: m.line().max(1),
        col: m.col().saturating_add(1),
    }
}

/// At most this many nodes are copied in for aliases (a "billion laughs" document
/// would otherwise expand exponentially).
const ALIAS_BUDGET: usize = 100_000;

/// A collection being built.
enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Y>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Y, Y)>,
        key: Option<Y>,
        seen: HashSet<String>,
    },
}

fn err(pos: Pos, message: impl Into<String>) -> YamlError {
    YamlError {
        pos,
        message: message.into(),
    }
}

/// A scalar key as a string that tells apart keys YAML tells apart (`1` and `"1"`).
fn key_id(k: &Y) -> Option<String> {
    Some(match &k.kind {
        Kind::Null => "n".into(),
        Kind::Bool(b) => format!("b{b}"),
        Kind::Int(i) => format!("i{i}"),
        Kind::Float(f) => format!("f{f:?}"),
        Kind::Str(s) => format!("s{s}"),
        Kind::Seq(_) | Kind::Map(_) => return None,
    })
}

/// The number of nodes of a tree (iterative).
fn size(y: &Y) -> usize {
    let mut n = 0usize;
    let mut stack = vec![y];
    while let Some(y) = stack.pop() {
        n = n.saturating_add(1);
        match &y.kind {
            Kind::Seq(items) => stack.extend(items),
            Kind::Map(m) => stack.extend(m.iter().flat_map(|(k, v)| [k, v])),
            _ => {}
        }
    }
    n
}

fn core_tag(tag: Option<&std::borrow::Cow<'_, Tag>>, pos: Pos) -> Result<(), YamlError> {
    match tag {
        Some(t) if !t.is_yaml_core_schema() => Err(err(
            pos,
            format!("YAML tags (`{t}`) are not allowed in a suite"),
        )),
        _ => Ok(()),
    }
}

/// Parse one YAML document (an empty text is `null`). Duplicate keys, keys that are not
/// scalars, several documents, tags outside the core schema, nesting deeper than
/// [`MAX_DEPTH`] and aliases expanding past a budget are errors. The tree is built from
/// the parser's events without recursion.
pub(crate) fn parse(text: &str) -> Result<Y, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Y> = HashMap::new();
    let mut budget = ALIAS_BUDGET;
    let mut root: Option<Y> = None;
    let mut docs = 0usize;
    while let Some(ev) = parser.next_event() {
        let (ev, span) = ev.map_err(|e| err(pos_of(e.marker()), e.info()))?;
        let pos = pos_of(&span.start);
        let is_seq = matches!(ev, Event::SequenceStart(..));
        // A finished node, and the anchor to record it under (0: none).
        let done: (Y, usize) = match ev {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => continue,
            Event::DocumentStart(_) => {
                docs += 1;
                if docs > 1 {
                    return Err(err(pos, "a second YAML document: a suite is one document"));
                }
                continue;
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                core_tag(tag.as_ref(), pos)?;
                if stack.len() >= MAX_DEPTH {
                    return Err(err(pos, format!("nested deeper than {MAX_DEPTH} levels")));
                }
                if let Some(Frame::Map { key: None, .. }) = stack.last() {
                    return Err(err(
                        pos,
                        "a mapping key must be a name or a number, not a list or a mapping",
                    ));
                }
                stack.push(if is_seq {
                    Frame::Seq {
                        pos,
                        anchor,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        pos,
                        anchor,
                        entries: Vec::new(),
                        key: None,
                        seen: HashSet::new(),
                    }
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq { pos, anchor, items }) => (
                    Y {
                        pos,
                        kind: Kind::Seq(items),
                    },
                    anchor,
                ),
                Some(Frame::Map {
                    pos,
                    anchor,
                    entries,
                    ..
                }) => (
                    Y {
                        pos,
                        kind: Kind::Map(entries),
                    },
                    anchor,
                ),
                None => return Err(err(pos, "unbalanced YAML collection")),
            },
            Event::Scalar(value, style, anchor, tag) => {
                core_tag(tag.as_ref(), pos)?;
                let kind = match Scalar::parse_from_cow_and_metadata(value, style, tag.as_ref()) {
                    Some(Scalar::Null) => Kind::Null,
                    Some(Scalar::Boolean(b)) => Kind::Bool(b),
                    Some(Scalar::Integer(i)) => Kind::Int(i),
                    Some(Scalar::FloatingPoint(f)) => Kind::Float(f.into_inner()),
                    Some(Scalar::String(s)) => Kind::Str(s.into_owned()),
                    None => return Err(err(pos, "a scalar that does not match its tag")),
                };
                (Y { pos, kind }, anchor)
            }
            Event::Alias(id) => {
                let Some(y) = anchors.get(&id) else {
                    return Err(err(pos, "an alias to an unknown anchor"));
                };
                let n = size(y);
                if n > budget {
                    return Err(err(
                        pos,
                        format!("aliases expand to more than {ALIAS_BUDGET} nodes"),
                    ));
                }
                budget -= n;
                (y.clone(), 0)
            }
        };
        let (node, anchor) = done;
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries, key, seen, ..
            }) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => {
                    let Some(id) = key_id(&node) else {
                        return Err(err(
                            node.pos,
                            "a mapping key must be a name or a number, not a list or a mapping",
                        ));
                    };
                    if !seen.insert(id) {
                        return Err(err(
                            node.pos,
                            format!("duplicated key {} in a mapping", node.describe()),
                        ));
                    }
                    *key = Some(node);
                }
            },
        }
    }
    Ok(root.unwrap_or(Y {
        pos: Pos { line: 1, col: 1 },
        kind: Kind::Null,
    }))
}

impl Y {
    /// `a string`, `a list`, … for messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Null => "null".into(),
            Kind::Bool(b) => b.to_string(),
            Kind::Int(i) => i.to_string(),
            Kind::Float(f) => format!("{f:?}"),
            Kind::Str(s) => format!("\"{s}\""),
            Kind::Seq(_) => "a list".into(),
            Kind::Map(_) => "a mapping".into(),
        }
    }

    /// The text of a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The entries of a mapping.
    pub fn as_map(&self) -> Option<&[(Y, Y)]> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items of a sequence.
    pub fn as_seq(&self) -> Option<&[Y]> {
        match &self.kind {
            Kind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value of key `k` in a mapping, with the key node.
    pub fn get(&self, k: &str) -> Option<(&Y, &Y)> {
        self.as_map()?
            .iter()
            .find(|(key, _)| key.as_str() == Some(k))
            .map(|(key, v)| (key, v))
    }

    /// The profile-loader's view of this node (positions dropped).
    pub fn to_node(&self) -> Node {
        match &self.kind {
            Kind::Null => Node::Null,
            Kind::Bool(b) => Node::Bool(*b),
            Kind::Int(i) => Node::Int(*i),
            Kind::Float(f) => Node::Float(*f),
            Kind::Str(s) => Node::Str(s.clone()),
            Kind::Seq(_) => Node::Seq,
            Kind::Map(m) => Node::Map(m.iter().map(|(k, v)| (k.to_node(), v.to_node())).collect()),
        }
    }

    /// Every key of a nested mapping as a dotted name, with the key's position, in
    /// document order (`phone: {active: x}` gives `phone` and `phone.active`).
    pub fn dotted_keys(&self) -> Vec<(String, Pos)> {
        let mut out = Vec::new();
        let mut stack: Vec<(String, &Y)> = vec![(String::new(), self)];
        while let Some((prefix, y)) = stack.pop() {
            let Some(m) = y.as_map() else { continue };
            for (k, v) in m {
                let key = k.as_str().map_or_else(|| k.describe(), str::to_string);
                let full = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                out.push((full.clone(), k.pos));
                stack.push((full, v));
            }
        }
        out.sort_by_key(|(_, p)| *p);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_per_node() {
        let y = parse("cases:\n  - profile: {a: 1}\n    name: x\n").unwrap();
        let (_, cases) = y.get("cases").unwrap();
        let case = &cases.as_seq().unwrap()[0];
        assert_eq!(case.pos, Pos { line: 2, col: 5 });
        let (k, v) = case.get("name").unwrap();
        assert_eq!(k.pos, Pos { line: 3, col: 5 });
        assert_eq!(v.as_str(), Some("x"));
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 2, col: 1 });
        assert!(e.message.contains("duplicated key"), "{}", e.message);
        let e = parse("a: [1,\n").unwrap_err();
        assert_eq!(e.pos.line, 2);
        // At the `---` that starts the second document.
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.pos.line, 2);
        assert!(parse("a: !foo 1\n").unwrap_err().message.contains("tags"));
        assert_eq!(parse("").unwrap().kind, Kind::Null);
    }

    #[test]
    fn depth_is_bounded() {
        let flow = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let block_seq = format!("a: {}x\n", "- ".repeat(100_000));
        let block_map: String = (0..5000)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect();
        for deep in [flow, block_seq, block_map] {
            let e = parse(&deep).unwrap_err();
            assert!(
                e.message.contains("deeper than 64") || e.message.contains("not allowed"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn aliases_resolve_within_a_budget() {
        let y = parse("a: &x {b: 1}\nc: *x\n").unwrap();
        assert_eq!(y.get("c").unwrap().1.get("b").unwrap().1.kind, Kind::Int(1));
        // Nine levels of ten aliases each: 10^9 nodes.
        let mut bomb = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = format!("*l{}", i - 1);
            let items = [prev.as_str(); 10].join(", ");
            bomb.push_str(&format!("l{i}: &l{i} [{items}]\n"));
        }
        let e = parse(&bomb).unwrap_err();
        assert!(e.message.contains("aliases expand"), "{}", e.message);
    }

    #[test]
    fn keys_are_scalars_and_tags_are_core() {
        assert!(parse("? [a]\n: 1\n")
            .unwrap_err()
            .message
            .contains("mapping key"));
        assert!(parse("{[a]: 1}")
            .unwrap_err()
            .message
            .contains("mapping key"));
        assert_eq!(
            parse("a: !!str 3\n").unwrap().get("a").unwrap().1.kind,
            Kind::Str("3".into())
        );
        // `1` and "1" are different keys.
        assert!(parse("1: a\n\"1\": b\n").is_ok());
    }

    #[test]
    fn dotted_keys_in_document_order() {
        let y = parse("phone: {active: true, bound: false}\nemail.bound: true\n").unwrap();
        let keys: Vec<String> = y.dotted_keys().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            ["phone", "phone.active", "phone.bound", "email.bound"]
        );
    }
}
