//! A byte scanner for JSON profiles, the fastest of the three readers.
//!
//! It reads the shape services send — objects, keys and enum strings without escapes,
//! integers and booleans, JSON's four whitespace bytes — straight into dense values,
//! without serde, and gives up (`None`) on anything else: an escape, a fraction or an
//! exponent, `-0`, `null`, an unknown key, a fact given twice (nested or dotted), a
//! value of the wrong type, objects nested deeper than [`MAX_DEPTH`]. The
//! caller then takes a path that reads all of JSON (serde, and the document path that
//! words every problem), so giving up is never wrong, only slower. Whatever it accepts
//! it reads exactly as those paths do (tests/profiles.rs checks it against them).
//!
//! Everything outside strings is ASCII, and a string is only accepted when its bytes
//! equal a fact's, group's or variant's name, so an accepted text is valid UTF-8
//! without a separate check. Objects nest only where a key names a group of facts, so
//! the recursion is as deep as the policy's dotted names, whatever the input, and never
//! deeper than [`MAX_DEPTH`] (serde_json's own limit is 128 levels).

/// The deepest object the scanner reads (a profile nested this deep goes to serde,
/// which refuses beyond its own limit as the other paths do).
pub(crate) const MAX_DEPTH: usize = 100;

/// The most profiles a list's values are reserved for before they are read.
const MAX_RESERVE: usize = 16_384;

use super::{DenseList, KeyIndex, KeyTarget, Reading};
use crate::check::ir::{Fact, FactType, Ir};

/// A position in the text.
struct Cursor<'b> {
    text: &'b [u8],
    at: usize,
}

impl<'b> Cursor<'b> {
    fn new(text: &'b [u8]) -> Self {
        Cursor { text, at: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// Skip JSON whitespace (space, tab, line feed, carriage return: not form feed).
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// `byte`, or give up.
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.at += 1)
    }

    /// Whether `byte` comes next; taken if so.
    fn take(&mut self, byte: u8) -> bool {
        self.eat(byte).is_some()
    }

    /// `word` (a literal such as `true`), or give up.
    fn word(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at.checked_add(word.len())?;
        (self.text.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// A string without escapes or control characters: the bytes between its quotes.
    fn plain_str(&mut self) -> Option<&'b [u8]> {
        self.eat(b'"')?;
        let rest = self.text.get(self.at..)?;
        let len = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        self.at += len + 1;
        rest.get(..len)
    }

    /// An integer as JSON writes it (`-?(0|[1-9][0-9]*)`), within `i64`; gives up on a
    /// fraction, an exponent or `-0` (which serde reads as a float).
    fn int(&mut self) -> Option<i64> {
        let negative = self.take(b'-');
        let first = self.peek().filter(u8::is_ascii_digit)?;
        let mut magnitude: u64 = 0;
        if first == b'0' {
            self.at += 1;
            if negative {
                return None;
            }
        } else {
            while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
                magnitude = magnitude
                    .checked_mul(10)?
                    .checked_add(u64::from(d - b'0'))?;
                self.at += 1;
            }
        }
        if matches!(self.peek(), Some(b'0'..=b'9' | b'.' | b'e' | b'E')) {
            return None;
        }
        if negative {
            0i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(magnitude).ok()
        }
    }
}

/// An object of facts at `level`, `depth` objects deep (the cursor on its `{`).
fn object(r: &mut Reading<'_>, c: &mut Cursor<'_>, level: usize, depth: usize) -> Option<()> {
    if depth >= MAX_DEPTH {
        return None;
    }
    c.eat(b'{')?;
    c.ws();
    if c.take(b'}') {
        return Some(());
    }
    loop {
        let key = c.plain_str()?;
        c.ws();
        c.eat(b':')?;
        c.ws();
        match r.find(level, key)? {
            KeyTarget::Fact(i) => {
                let v = value(c, r.claim(i)?)?;
                r.set(i, v);
            }
            KeyTarget::Group(g) => object(r, c, g, depth + 1)?,
        }
        c.ws();
        if c.take(b'}') {
            return Some(());
        }
        c.eat(b',')?;
        c.ws();
    }
}

/// A value of `fact`, validated against its type.
fn value(c: &mut Cursor<'_>, fact: &Fact) -> Option<i64> {
    match &fact.ty {
        FactType::Bool => match c.peek()? {
            b't' => c.word(b"true").map(|()| 1),
            b'f' => c.word(b"false").map(|()| 0),
            _ => None,
        },
        FactType::Int { lo, hi } => c.int().filter(|v| (*lo..=*hi).contains(v)),
        FactType::Enum(variants) => {
            let s = c.plain_str()?;
            let at = variants.iter().position(|v| v.as_bytes() == s)?;
            i64::try_from(at).ok()
        }
    }
}

/// One profile object at the cursor, defaults filled in; `None` also when a fact
/// without a default is missing.
fn profile(r: &mut Reading<'_>, c: &mut Cursor<'_>, depth: usize) -> Option<()> {
    r.reset();
    object(r, c, 0, depth)?;
    r.complete().then_some(())
}

/// A list of at most `limit` profiles at the cursor (on its `[`), `depth` containers
/// deep.
fn profiles(
    r: &mut Reading<'_>,
    c: &mut Cursor<'_>,
    limit: usize,
    depth: usize,
) -> Option<DenseList> {
    c.eat(b'[')?;
    c.ws();
    let width = r.ir.facts.len();
    let mut out = DenseList {
        count: 0,
        width,
        values: Vec::new(),
    };
    if c.take(b']') {
        return Some(out);
    }
    loop {
        if out.count == limit {
            return None;
        }
        profile(r, c, depth + 1)?;
        if out.count == 0 {
            // Sized from the first item: the text's length over the item's (at most
            // MAX_RESERVE profiles ahead of what is read).
            let per_item = c.at.max(1);
            let guess = (c.text.len() / per_item).min(limit).min(MAX_RESERVE);
            out.values.reserve(width.saturating_mul(guess));
        }
        out.values.extend_from_slice(&r.values);
        out.count += 1;
        c.ws();
        if c.take(b']') {
            return Some(out);
        }
        c.eat(b',')?;
        c.ws();
    }
}

/// Dense values of one JSON profile (the whole text), or `None` to take another path.
pub(crate) fn values(ir: &Ir, keys: &KeyIndex, text: &[u8]) -> Option<Vec<i64>> {
    let mut r = Reading::new(ir, keys);
    let mut c = Cursor::new(text);
    c.ws();
    profile(&mut r, &mut c, 0)?;
    c.ws();
    (c.at == text.len()).then_some(r.values)
}

/// A JSON list of at most `limit` profiles (the whole text), or `None` to take another
/// path.
pub(crate) fn list(ir: &Ir, keys: &KeyIndex, text: &[u8], limit: usize) -> Option<DenseList> {
    let mut r = Reading::new(ir, keys);
    let mut c = Cursor::new(text);
    c.ws();
    let out = profiles(&mut r, &mut c, limit, 0)?;
    c.ws();
    (c.at == text.len()).then_some(out)
}

/// An object whose only key is `field` (written without escapes) and whose value is a
/// list of at most `limit` profiles — a batch request's body — or `None` to take
/// another path.
pub(crate) fn wrapped_list(
    ir: &Ir,
    keys: &KeyIndex,
    text: &[u8],
    field: &str,
    limit: usize,
) -> Option<DenseList> {
    let mut r = Reading::new(ir, keys);
    let mut c = Cursor::new(text);
    c.ws();
    c.eat(b'{')?;
    c.ws();
    if c.plain_str()? != field.as_bytes() {
        return None;
    }
    c.ws();
    c.eat(b':')?;
    c.ws();
    let out = profiles(&mut r, &mut c, limit, 1)?;
    c.ws();
    c.eat(b'}')?;
    c.ws();
    (c.at == text.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::{Cursor, MAX_DEPTH};
    use crate::Policy;

    #[test]
    fn profiles_nested_deeper_than_the_limit_are_left_to_serde() {
        // One fact named a.a.a…a with `parts` parts, written fully nested.
        let nested = |parts: usize| {
            let name = vec!["a"; parts].join(".");
            let src = format!(
                "policy p facts {{ {name}: bool }} methods {{ m: knowledge requires {name} }} \
                 path x {{ steps m grants g }}"
            );
            let policy = Policy::parse(&src).unwrap();
            let text = format!("{}true{}", "{\"a\": ".repeat(parts), "}".repeat(parts));
            super::values(&policy.ir, &policy.keys, text.as_bytes())
        };
        assert_eq!(nested(3), Some(vec![1]));
        assert_eq!(nested(MAX_DEPTH - 1), Some(vec![1]));
        assert_eq!(nested(MAX_DEPTH + 1), None);
    }

    fn int(text: &str) -> Option<i64> {
        let mut c = Cursor::new(text.as_bytes());
        let v = c.int()?;
        (c.at == text.len()).then_some(v)
    }

    #[test]
    fn integers_as_json_writes_them_and_nothing_else() {
        assert_eq!(int("0"), Some(0));
        assert_eq!(int("42"), Some(42));
        assert_eq!(int("-7"), Some(-7));
        assert_eq!(int("9223372036854775807"), Some(i64::MAX));
        assert_eq!(int("-9223372036854775808"), Some(i64::MIN));
        for given_up in [
            "9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999999",
            "-0",
            "01",
            "1.0",
            "1e3",
            "1E3",
            "-",
            "+1",
            "",
            "-a",
        ] {
            assert_eq!(int(given_up), None, "{given_up}");
        }
    }

    #[test]
    fn strings_with_escapes_or_control_characters_are_given_up() {
        let plain = |t: &str| Cursor::new(t.as_bytes()).plain_str().map(<[u8]>::to_vec);
        assert_eq!(plain(r#""phone""#), Some(b"phone".to_vec()));
        assert_eq!(plain(r#""""#), Some(Vec::new()));
        assert_eq!(plain(r#""ph\u006fne""#), None);
        assert_eq!(plain("\"a\tb\""), None);
        assert_eq!(plain("\"open"), None);
        assert_eq!(plain("phone"), None);
    }
}
