//! Invariants shared by the fuzz targets. Each `check_*` panics (a libFuzzer crash) when one breaks.
#![allow(dead_code)]

use std::sync::{Mutex, OnceLock};

use notecoder::offsets::{map_offsets, OffsetUnit};
use notecoder::{segment, ModelFiles, NoteCoder, Span, Suggestions};
use unicode_segmentation::UnicodeSegmentation;

/// The shipped model folder, compiled in (the fuzzer must not depend on the working directory).
pub const CONFIG: &[u8] = include_bytes!("../../models/coresponse-v1/config.json");
pub const CODEBOOK: &[u8] = include_bytes!("../../models/coresponse-v1/codebook.json");
pub const TOKENIZER: &[u8] = include_bytes!("../../models/coresponse-v1/tokenizer.json");
pub const MODEL: &[u8] = include_bytes!("../../models/coresponse-v1/model.onnx");

/// One shipped coder per process (loading takes ~100 ms; its segment cache makes no difference to results).
pub fn shipped() -> &'static Mutex<NoteCoder> {
    static CODER: OnceLock<Mutex<NoteCoder>> = OnceLock::new();
    CODER.get_or_init(|| {
        let files = ModelFiles {
            config: CONFIG,
            codebook: CODEBOOK,
            tokenizer: TOKENIZER,
            model: MODEL,
        };
        Mutex::new(NoteCoder::from_bytes(files).expect("the shipped model loads"))
    })
}

/// Whitespace as the segmenter trims it (`segment.rs`: Unicode White_Space, ZWSP, word joiner, BOM).
fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// Spans lie inside `text`, on char and grapheme-cluster boundaries, non-empty, ordered, not overlapping.
pub fn check_spans(text: &str, spans: &[Span]) {
    let boundaries: std::collections::HashSet<usize> = text
        .grapheme_indices(true)
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let mut prev_end = 0;
    for s in spans {
        assert!(s.start < s.end, "empty or reversed span {s:?}");
        assert!(
            s.end <= text.len(),
            "span {s:?} past the end ({})",
            text.len()
        );
        assert!(
            s.start >= prev_end,
            "span {s:?} overlaps or precedes the previous (end {prev_end})"
        );
        assert!(
            text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
            "span {s:?} splits a char"
        );
        assert!(
            boundaries.contains(&s.start) && boundaries.contains(&s.end),
            "span {s:?} splits a grapheme cluster"
        );
        prev_end = s.end;
    }
    // Offsets in the other units agree with slicing in those units.
    let flat: Vec<usize> = spans.iter().flat_map(|s| [s.start, s.end]).collect();
    let utf16 = map_offsets(text, &flat, OffsetUnit::Utf16);
    let scalar = map_offsets(text, &flat, OffsetUnit::Scalar);
    for (i, &b) in flat.iter().enumerate() {
        assert_eq!(
            utf16[i],
            text[..b].encode_utf16().count(),
            "UTF-16 offset of byte {b}"
        );
        assert_eq!(
            scalar[i],
            text[..b].chars().count(),
            "scalar offset of byte {b}"
        );
    }
}

/// The segmenter's own promises on top of [`check_spans`]: units are trimmed and hold a letter or digit, and
/// text with a letter or digit outside every unit is only possible in a dropped unit... which has none.
pub fn check_segments(text: &str) -> Vec<Span> {
    let spans = segment(text);
    check_spans(text, &spans);
    for s in &spans {
        let unit = &text[s.start..s.end];
        let first = unit.chars().next().unwrap();
        let last = unit.chars().next_back().unwrap();
        assert!(
            !is_space(first) && !is_space(last),
            "unit {s:?} is not trimmed"
        );
        assert!(
            unit.chars().any(char::is_alphanumeric),
            "unit {s:?} has no letter or digit"
        );
    }
    // Every letter or digit of the text is inside some unit, but for list markers (`1.`, `(12)`, `a)`) at the
    // start of a line, which are not part of any unit by design: nothing with content is dropped.
    let mut k = 0;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            while k < spans.len() && spans[k].end <= i {
                k += 1;
            }
            assert!(
                (k < spans.len() && spans[k].start <= i)
                    || in_list_marker(text, i)
                    || extends_a_non_letter(text, i),
                "letter or digit at byte {i} is in no unit"
            );
        }
    }
    spans
}

/// Whether the char at byte `i` shares its grapheme cluster with whitespace or follows a non-letter in it (an
/// Arabic small high meem typed after a space, a prepended letter fused with the space after it): units end
/// on cluster boundaries inside their trimmed text, so such a character stays outside.
fn extends_a_non_letter(text: &str, i: usize) -> bool {
    text.grapheme_indices(true)
        .find(|(start, g)| *start <= i && i < start + g.len())
        .is_some_and(|(start, g)| {
            g.chars().any(is_space)
                || (start < i && !g.chars().next().is_some_and(char::is_alphanumeric))
        })
}

/// Whether byte `i` is inside a list marker (`12.`, `3)`, `(4)`, `a)`) that starts its line after whitespace.
fn in_list_marker(text: &str, i: usize) -> bool {
    let line_start = text[..i].rfind(['\n', '\r']).map_or(0, |p| p + 1);
    let lead = text[line_start..].len() - text[line_start..].trim_start_matches(is_space).len();
    let m = &text[line_start + lead..];
    let at = i - (line_start + lead);
    let b = m.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let len = if b.first() == Some(&b'(') {
        let d = digits(1);
        ((1..=3).contains(&d) && b.get(1 + d) == Some(&b')')).then_some(d + 2)
    } else if b.first().is_some_and(u8::is_ascii_digit) {
        let d = digits(0);
        (d <= 2 && matches!(b.get(d), Some(b'.') | Some(b')'))).then_some(d + 1)
    } else if b.first().is_some_and(u8::is_ascii_lowercase) && b.get(1) == Some(&b')') {
        Some(2)
    } else {
        None
    };
    len.is_some_and(|len| at < len)
}

/// Suggestions agree with the codebook, the segmenter and themselves.
pub fn check_suggestions(coder: &NoteCoder, text: &str, s: &Suggestions) {
    let book = coder.codebook();
    assert_eq!(s.codes.len(), book.len(), "one entry per code");
    let units = segment(text);
    assert_eq!(
        s.coverage.segments,
        units.len(),
        "coverage counts every unit"
    );
    assert!(s.coverage.windows >= s.coverage.windowed_segments * 2);
    for (c, code) in s.codes.iter().zip(&book.codes) {
        assert_eq!(c.id, code.id);
        assert!(
            (0.0..=1.0).contains(&c.score),
            "{}: score {} outside [0, 1]",
            c.id,
            c.score
        );
        assert_eq!(
            c.suggested,
            c.score >= code.threshold,
            "{}: suggested vs threshold",
            c.id
        );
        assert_eq!(
            c.suggested,
            !c.evidence.is_empty(),
            "{}: suggested iff evidence",
            c.id
        );
        let spans: Vec<Span> = c
            .evidence
            .iter()
            .map(|e| Span {
                start: e.start,
                end: e.end,
            })
            .collect();
        check_spans(text, &spans);
        for e in &c.evidence {
            assert!(
                units.contains(&Span {
                    start: e.start,
                    end: e.end
                }),
                "{}: evidence is not a unit",
                c.id
            );
            assert!(
                e.score >= code.threshold && e.score <= c.score,
                "{}: evidence score {}",
                c.id,
                e.score
            );
        }
    }
}
