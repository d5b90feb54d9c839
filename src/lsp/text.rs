//! Document text: incremental edits and conversions between byte offsets (the library's
//! spans) and LSP positions (0-based lines, UTF-16 code units).

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

/// A non-ASCII character: where it is and how its UTF-8 and UTF-16 lengths differ.
#[derive(Clone, Copy, Debug)]
struct Wide {
    /// Its first byte.
    at: usize,
    /// UTF-8 bytes (2 to 4).
    bytes: usize,
    /// UTF-16 units (1 or 2).
    units: usize,
    /// Bytes minus units of every non-ASCII character before this one.
    excess_before: usize,
}

/// Line starts of a text, for offset ⇄ position conversions. Lines end at `\n`, `\r\n`
/// or a lone `\r`, as the protocol says. Conversions take logarithmic time whatever the
/// length of the line (an editor converts many positions on one long line).
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
    wide: Vec<Wide>,
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
        let mut wide = Vec::new();
        let mut excess = 0;
        for (at, c) in text.char_indices().filter(|(_, c)| !c.is_ascii()) {
            let (bytes, units) = (c.len_utf8(), c.len_utf16());
            wide.push(Wide {
                at,
                bytes,
                units,
                excess_before: excess,
            });
            excess += bytes - units;
        }
        LineIndex {
            starts,
            len: text.len(),
            wide,
        }
    }

    /// Bytes minus UTF-16 units of the text before `offset` (a char boundary).
    fn excess_before(&self, offset: usize) -> usize {
        let k = self.wide.partition_point(|w| w.at < offset);
        k.checked_sub(1)
            .and_then(|k| self.wide.get(k))
            .map_or(0, |w| w.excess_before + w.bytes - w.units)
    }

    /// UTF-16 units from `start` to `offset` (both char boundaries, `start <= offset`).
    fn units_between(&self, start: usize, offset: usize) -> usize {
        (offset - start) - (self.excess_before(offset) - self.excess_before(start))
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
    /// the last line the end of the text (as the protocol says); inside a surrogate pair,
    /// the end of its character.
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let Some((start, end)) = self.line_bounds(text, pos.line as usize) else {
            return self.len;
        };
        let want = pos.character as usize;
        if want >= self.units_between(start, end) {
            return end;
        }
        // The last non-ASCII character of the line that starts before `want` units.
        let first = self.wide.partition_point(|w| w.at < start);
        let last = self.wide.partition_point(|w| w.at < end);
        let in_line = self.wide.get(first..last).unwrap_or(&[]);
        let k = in_line.partition_point(|w| self.units_between(start, w.at) < want);
        let Some(w) = k.checked_sub(1).and_then(|k| in_line.get(k)) else {
            // Only ASCII before the position.
            return start + want;
        };
        let at_units = self.units_between(start, w.at);
        let after = w.at + w.bytes;
        if at_units + w.units >= want {
            after
        } else {
            // ASCII from the end of that character to the position.
            (after + want - at_units - w.units).min(end)
        }
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
        let start = self.starts.get(line).copied().unwrap_or(0).min(offset);
        Position::new(line as u32, self.units_between(start, offset) as u32)
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

    /// The definitions, one character at a time.
    fn naive_offset(line: &str, start: usize, want: usize) -> usize {
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= want {
                return start + i;
            }
            units += c.len_utf16();
        }
        start + line.len()
    }

    #[test]
    fn conversions_agree_with_counting_characters() {
        // Pseudo-random lines of ASCII, accents, CJK, emoji and line breaks.
        let pieces = ["a", "bc", " ", "é", "密", "😀", "\n", "\r\n", "\r", "x.y"];
        let mut seed = 0x2545_f491_u64;
        for _ in 0..200 {
            let mut text = String::new();
            for _ in 0..(seed % 40) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let idx = LineIndex::new(&text);
            for offset in (0..=text.len()).filter(|o| text.is_char_boundary(*o)) {
                let p = idx.position(&text, offset);
                let (start, end) = idx.line_bounds(&text, p.line as usize).unwrap();
                let start = start.min(offset);
                let units: usize = text[start..offset].chars().map(char::len_utf16).sum();
                assert_eq!(p.character as usize, units, "{text:?} at {offset}");
                if offset <= end {
                    assert_eq!(idx.offset(&text, p), offset, "{text:?} at {offset}");
                }
            }
            for line in 0..idx.starts.len() {
                let (start, end) = idx.line_bounds(&text, line).unwrap();
                for want in 0..12 {
                    let pos = Position::new(line as u32, want as u32);
                    let naive = naive_offset(&text[start..end], start, want);
                    assert_eq!(idx.offset(&text, pos), naive, "{text:?} {pos:?}");
                }
            }
        }
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
