//! A forgiving tokenizer for editor work on text that may not parse: item boundaries for
//! recovery, the tokens before the cursor for completion, the word under the cursor.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    /// An identifier, dotted name, number, range or duration.
    Word,
    /// A quoted string (possibly unterminated).
    Str,
    /// Punctuation or an operator.
    Punct,
}

/// One token with its byte range.
#[derive(Clone, Debug)]
pub struct Token<'a> {
    /// The kind.
    pub kind: Tok,
    /// The text.
    pub text: &'a str,
    /// First byte.
    pub start: usize,
}

/// A character that continues a word (names, dotted names, numbers, durations, ranges).
pub fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// The tokens of `text`, comments and whitespace skipped.
pub fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let c = b as char;
        if b == b'#' {
            while bytes.get(i).is_some_and(|b| *b != b'\n' && *b != b'\r') {
                i += 1;
            }
        } else if c.is_ascii_whitespace() || b >= 0x80 {
            i += 1;
        } else if b == b'"' {
            let start = i;
            i += 1;
            while let Some(&b) = bytes.get(i) {
                if b == b'\\' {
                    i += 2;
                    continue;
                }
                if b == b'\n' || b == b'\r' {
                    break;
                }
                i += 1;
                if b == b'"' {
                    break;
                }
            }
            let end = i.min(text.len());
            out.push(Token {
                kind: Tok::Str,
                text: text.get(start..end).unwrap_or(""),
                start,
            });
        } else if is_word_char(c) || (b == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let start = i;
            i += 1;
            while bytes.get(i).is_some_and(|b| is_word_char(*b as char)) {
                i += 1;
            }
            out.push(Token {
                kind: Tok::Word,
                text: text.get(start..i).unwrap_or(""),
                start,
            });
        } else {
            let start = i;
            let two = text.get(i..i + 2).unwrap_or("");
            i += if matches!(two, "==" | "!=" | "<=" | ">=") {
                2
            } else {
                1
            };
            out.push(Token {
                kind: Tok::Punct,
                text: text.get(start..i).unwrap_or(""),
                start,
            });
        }
    }
    out
}

/// Keywords that start a top-level item.
pub const ITEM_KEYWORDS: &[&str] = &["facts", "methods", "deny", "path"];

/// The byte offsets where top-level items start (their keyword), in order.
pub fn item_starts(text: &str) -> Vec<usize> {
    tokens(text)
        .iter()
        .filter(|t| t.kind == Tok::Word && ITEM_KEYWORDS.contains(&t.text))
        .map(|t| t.start)
        .collect()
}

/// The end of the policy header (`policy NAME`), when the text starts with one.
pub fn header_end(text: &str) -> Option<usize> {
    let toks = tokens(text);
    match (toks.first(), toks.get(1)) {
        (Some(p), Some(name)) if p.text == "policy" && name.kind == Tok::Word => {
            Some(name.start + name.text.len())
        }
        _ => None,
    }
}

/// The word (name, dotted name, keyword, number) touching `offset`, with its range.
pub fn word_at(text: &str, offset: usize) -> Option<(usize, usize, &str)> {
    let bytes = text.as_bytes();
    let offset = offset.min(text.len());
    let mut start = offset;
    while start > 0
        && bytes
            .get(start - 1)
            .is_some_and(|b| is_word_char(*b as char))
    {
        start -= 1;
    }
    let mut end = offset;
    while bytes.get(end).is_some_and(|b| is_word_char(*b as char)) {
        end += 1;
    }
    if start == end {
        return None;
    }
    text.get(start..end).map(|w| (start, end, w))
}

/// True when `offset` lies inside a comment or a string on its line.
pub fn in_comment_or_string(text: &str, offset: usize) -> bool {
    let line_start = text
        .get(..offset)
        .and_then(|t| t.rfind(['\n', '\r']))
        .map_or(0, |i| i + 1);
    let mut in_str = false;
    let mut escaped = false;
    for c in text.get(line_start..offset).unwrap_or("").chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if c == '#' {
            return true;
        }
    }
    in_str
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_skip_comments_and_keep_strings_whole() {
        let t = tokens("path p \"a # b\" { # c\n wait 48h steps x }");
        let texts: Vec<&str> = t.iter().map(|t| t.text).collect();
        assert_eq!(
            texts,
            [
                "path",
                "p",
                "\"a # b\"",
                "{",
                "wait",
                "48h",
                "steps",
                "x",
                "}"
            ]
        );
        assert_eq!(item_starts("policy p facts { } path q {}"), [9, 19]);
    }

    #[test]
    fn words_and_comment_detection() {
        let s = "when phone.active == x # über";
        assert_eq!(word_at(s, 8).map(|w| w.2), Some("phone.active"));
        assert!(in_comment_or_string(s, s.len()));
        assert!(!in_comment_or_string(s, 8));
        assert!(in_comment_or_string("deny \"a b", 8));
    }
}
