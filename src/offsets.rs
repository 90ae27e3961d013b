//! Offset units. The core works in UTF-8 bytes; JavaScript strings index UTF-16 code units and Python strings
//! (and the labeled JSONL form of `docs/framework.md`) index Unicode scalar values.

use crate::suggest::Suggestions;

/// The unit in which offsets are expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetUnit {
    /// UTF-8 bytes (Rust `str` indices).
    Utf8,
    /// UTF-16 code units (JavaScript `String.prototype.slice`).
    Utf16,
    /// Unicode scalar values (Rust `char`s, Python `str` indices).
    Scalar,
}

/// Maps sorted UTF-8 byte offsets of `text` (each on a char boundary) to `unit`, in one pass over the text.
pub fn map_offsets(text: &str, sorted_bytes: &[usize], unit: OffsetUnit) -> Vec<usize> {
    if unit == OffsetUnit::Utf8 {
        return sorted_bytes.to_vec();
    }
    let mut out = Vec::with_capacity(sorted_bytes.len());
    let mut want = sorted_bytes.iter().copied().peekable();
    let mut count = 0usize;
    for (byte, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), '\0')))
    {
        while let Some(&b) = want.peek() {
            if b > byte {
                break;
            }
            out.push(count);
            want.next();
        }
        count += match unit {
            OffsetUnit::Utf16 => c.len_utf16(),
            _ => 1,
        };
    }
    out
}

/// Rewrites every evidence offset of `s` (UTF-8 bytes into `text`) into `unit`.
pub fn convert(text: &str, s: &mut Suggestions, unit: OffsetUnit) {
    let mut all: Vec<usize> = s
        .codes
        .iter()
        .flat_map(|c| c.evidence.iter().flat_map(|e| [e.start, e.end]))
        .collect();
    all.sort_unstable();
    all.dedup();
    let mapped = map_offsets(text, &all, unit);
    let lookup = |b: usize| mapped[all.binary_search(&b).expect("offset was collected")];
    for c in &mut s.codes {
        for e in &mut c.evidence {
            e.start = lookup(e.start);
            e.end = lookup(e.end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_bytes_to_utf16_and_scalars() {
        // "é" is 2 bytes, 1 UTF-16 unit, 1 scalar; the emoji is 4 bytes, 2 UTF-16 units, 1 scalar.
        let text = "é\u{1F600}a";
        let bytes = [0, 2, 6, 7];
        assert_eq!(map_offsets(text, &bytes, OffsetUnit::Utf16), [0, 1, 3, 4]);
        assert_eq!(map_offsets(text, &bytes, OffsetUnit::Scalar), [0, 1, 2, 3]);
        assert_eq!(map_offsets(text, &bytes, OffsetUnit::Utf8), bytes);
    }
}
