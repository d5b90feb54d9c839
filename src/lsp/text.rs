//! Document text: incremental edits and conversions between byte offsets (the library's
//! spans) and LSP positions (0-based lines, UTF-16 code units).

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

/// Line starts of a text, for offset ⇄ position conversions. Lines end at `\n`, `\r\n`
/// or a lone `\r`, as the protocol says.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    /// The index of `text`.
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, b) in bytes.iter().enumerate() {
            let ends_line = match b {
                b'\n' => true,
                b'\r' => bytes.get(i + 1) != Some(&b'\n'),
                _ => false,
            };
            if ends_line {
                starts.push(i + 1);
            }
        }
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// The byte range of line `line`'s content (without its line break).
    fn line_bounds(&self, text: &str, line: usize) -> Option<(usize, usize)> {
        let start = *self.starts.get(line)?;
        let Some(next) = self.starts.get(line + 1) else {
            return Some((start, self.len));
        };
        // `next - 1` is the `\n` or lone `\r` that ends the line.
        let mut end = next.saturating_sub(1).max(start);
        if end > start
            && text.as_bytes().get(end) == Some(&b'\n')
            && text.as_bytes().get(end - 1) == Some(&b'\r')
        {
            end -= 1;
        }
        Some((start, end))
    }

    /// The byte offset of an LSP position; past the end of a line means its end, past
    /// the last line the end of the text (as the protocol says).
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let Some((start, end)) = self.line_bounds(text, pos.line as usize) else {
            return self.len;
        };
        let want = pos.character as usize;
        let mut units = 0usize;
        let line = text.get(start..end).unwrap_or("");
        for (i, c) in line.char_indices() {
            if units >= want {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }

    /// The LSP position of a byte offset (clamped to the text, snapped back to a char
    /// boundary).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(self.len);
        while offset > 0 && !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let col: usize = text
            .get(start..offset)
            .unwrap_or("")
            .chars()
            .map(char::len_utf16)
            .sum();
        Position::new(line as u32, col as u32)
    }

    /// The LSP range of a byte span.
    pub fn range(&self, text: &str, span: regain::source::Span) -> Range {
        Range::new(
            self.position(text, span.start),
            self.position(text, span.end),
        )
    }
}

/// Apply one content change (a ranged edit or the whole text) to `text`.
pub fn apply_change(text: &mut String, change: &TextDocumentContentChangeEvent) {
    match change.range {
        None => *text = change.text.clone(),
        Some(range) => {
            let index = LineIndex::new(text);
            let start = index.offset(text, range.start);
            let end = index.offset(text, range.end).max(start);
            text.replace_range(start..end, &change.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_count_surrogate_pairs_and_accents() {
        // "é" is 2 bytes and 1 UTF-16 unit; "😀" is 4 bytes and 2 units.
        let text = "a é😀 b\r\nnext";
        let idx = LineIndex::new(text);
        let b = text.find(" b").unwrap() + 1;
        assert_eq!(idx.position(text, b), Position::new(0, 6));
        assert_eq!(idx.offset(text, Position::new(0, 6)), b);
        // Past the end of line 0 is its end, before the CR.
        assert_eq!(
            idx.offset(text, Position::new(0, 99)),
            text.find('\r').unwrap()
        );
        assert_eq!(
            idx.offset(text, Position::new(1, 2)),
            text.find("xt").unwrap()
        );
        assert_eq!(idx.offset(text, Position::new(7, 0)), text.len());
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        let text = "a\rbé\r\nc\n\rd";
        let idx = LineIndex::new(text);
        let d = text.find('d').unwrap();
        assert_eq!(idx.position(text, d), Position::new(4, 0));
        assert_eq!(idx.offset(text, Position::new(4, 0)), d);
        assert_eq!(
            idx.offset(text, Position::new(1, 9)),
            text.find("\r\n").unwrap()
        );
        assert_eq!(idx.offset(text, Position::new(0, 9)), 1);
        assert_eq!(
            idx.offset(text, Position::new(3, 9)),
            text.find("\rd").unwrap()
        );
        assert_eq!(
            idx.position(text, text.find('c').unwrap()),
            Position::new(2, 0)
        );
    }

    #[test]
    fn ranged_changes_apply_at_utf16_positions() {
        let mut text = String::from("x é y\nz");
        let change = TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(0, 2), Position::new(0, 3))),
            range_length: None,
            text: "ü!".into(),
        };
        apply_change(&mut text, &change);
        assert_eq!(text, "x ü! y\nz");
    }
}
