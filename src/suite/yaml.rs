//! YAML with source positions: saphyr's marked nodes, copied into a small owned tree so
//! that every error of a suite can name the line and column of the node it is about.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use crate::profile::Node;

/// Deeper nesting than this is refused (a suite is a few levels deep; the bound keeps
/// the recursive copy and the drop of the tree on small stacks).
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

fn pos_of(m: &saphyr::Marker) -> Pos {
    Pos {
        line: m.line().max(1),
        col: m.col().saturating_add(1),
    }
}

/// Parse one YAML document (an empty text is `null`). Duplicate keys, several
/// documents, tags and too deep nesting are errors.
pub(crate) fn parse(text: &str) -> Result<Y, YamlError> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| YamlError {
        pos: pos_of(e.marker()),
        message: e.info().to_string(),
    })?;
    let mut docs = docs.into_iter();
    let Some(first) = docs.next() else {
        return Ok(Y {
            pos: Pos { line: 1, col: 1 },
            kind: Kind::Null,
        });
    };
    if let Some(second) = docs.next() {
        return Err(YamlError {
            pos: pos_of(&second.span.start),
            message: "a second YAML document: a suite is one document".into(),
        });
    }
    copy(&first, 0)
}

fn copy(y: &MarkedYaml<'_>, depth: usize) -> Result<Y, YamlError> {
    let pos = pos_of(&y.span.start);
    if depth > MAX_DEPTH {
        return Err(YamlError {
            pos,
            message: format!("nested deeper than {MAX_DEPTH} levels"),
        });
    }
    let kind = match &y.data {
        YamlData::Value(s) => match s {
            Scalar::Null => Kind::Null,
            Scalar::Boolean(b) => Kind::Bool(*b),
            Scalar::Integer(i) => Kind::Int(*i),
            Scalar::FloatingPoint(f) => Kind::Float(f.into_inner()),
            Scalar::String(s) => Kind::Str(s.to_string()),
        },
        YamlData::Representation(s, _, _) => Kind::Str(s.to_string()),
        YamlData::Sequence(items) => Kind::Seq(
            items
                .iter()
                .map(|i| copy(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(m) => Kind::Map(
            m.iter()
                .map(|(k, v)| Ok((copy(k, depth + 1)?, copy(v, depth + 1)?)))
                .collect::<Result<_, YamlError>>()?,
        ),
        YamlData::Tagged(tag, _) => {
            return Err(YamlError {
                pos,
                message: format!("YAML tags (`{tag}`) are not allowed in a suite"),
            })
        }
        YamlData::Alias(_) | YamlData::BadValue => {
            return Err(YamlError {
                pos,
                message: "a value that cannot be read (an unresolved alias or a scalar that does not match its tag)".into(),
            })
        }
    };
    Ok(Y { pos, kind })
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
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.pos.line, 3);
        assert!(parse("a: !foo 1\n").unwrap_err().message.contains("tags"));
        assert_eq!(parse("").unwrap().kind, Kind::Null);
    }

    #[test]
    fn depth_is_bounded() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let e = parse(&deep).unwrap_err();
        assert!(
            e.message.contains("deeper") || e.message.contains("recursion"),
            "{}",
            e.message
        );
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
