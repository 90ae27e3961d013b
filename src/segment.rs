//! The segmenter: splits a note into coding units the way clinicians write them.
//!
//! A coding unit (segment) is a sentence, a fragment, a bullet or numbered line, or a `Label:` header. Rules,
//! in order:
//! 1. Every line break ends a unit: `\n`, `\r\n` and a lone `\r` alike.
//! 2. A bullet or number marker at the start of a line (`- `, `* `, `• `, `1. `, `2) `, `(3) `, `a) `) is not part
//!    of any unit.
//! 3. A header at the start of a line or sentence (a capitalised label of at most three words, not ending in `re`, and 30 bytes,
//!    then `:` and whitespace or the line's end, e.g. `MSE:`, `Dispo:`, `S:`) is a unit of its own.
//! 4. Within a line, `.`, `!`, `?` or `…` (a run of them, plus closing quotes or brackets) followed by
//!    whitespace ends a sentence, except after an abbreviation: titles and Latin forms (`Dr.`, `Sgt.`, `e.g.`,
//!    `approx.`) never end one; shorthand that may end one (`pt.`, `p.m.`, `hx.`, `etc.`) ends it only when
//!    the next word is capitalised; a single capital letter (`J. Smith`) never ends one; an ellipsis ends one
//!    only before a capital.
//! 5. Units are trimmed of whitespace (including NBSP and zero-width spaces); a unit with no letter or digit
//!    (a rule line `---`) is dropped.
//! 6. Both ends of a unit are on grapheme-cluster boundaries (UAX #29), moved inward when trimming left them
//!    inside a cluster: a combining mark typed after a space, or a prepended mark fused with the space after
//!    it, stays outside the unit.
//!
//! Offsets are UTF-8 byte offsets into the input, always on `char` and grapheme-cluster boundaries; spans are
//! ordered and do not overlap. Callers convert them with [`crate::offsets`].

use unicode_segmentation::GraphemeCursor;

/// A segment: `text[start..end]` in UTF-8 bytes, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Span {
    /// First byte of the unit.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

/// Abbreviations (lowercased, without their final `.`) after which a period never ends a sentence.
const NEVER_ENDS: &[&str] = &[
    "dr", "mr", "mrs", "ms", "mx", "prof", "sgt", "det", "lt", "capt", "cpl", "ofc", "st", "e.g",
    "i.e", "eg", "ie", "vs", "v", "approx", "appx", "apprx", "ca", "cf", "tel", "ext", "ph", "jr",
    "sr", "incl", "esp",
];
/// Shorthand after which a period ends a sentence only when the next word starts with a capital letter.
const ENDS_BEFORE_CAPITAL: &[&str] = &[
    "pt", "pts", "clt", "a.m", "p.m", "etc", "y.o", "yo", "appt", "dept", "min", "mins", "hr",
    "hrs", "wk", "wks", "mo", "mos", "yr", "yrs", "al", "hosp",
];
const CLOSERS: &[char] = &['"', '\'', '\u{201D}', '\u{2019}', ')', ']', '\u{BB}'];
const BULLETS: &[char] = &[
    '-', '*', '\u{2022}', '\u{2023}', '\u{25E6}', '\u{25AA}', '\u{25CF}', '+', '>', '\u{B7}',
    '\u{2013}', '\u{2014}',
];

/// Whitespace for trimming: Unicode `White_Space` plus the zero-width space, word joiner and BOM.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// Splits `text` into coding units. Never panics; returns an empty vector for text with no letter or digit.
///
/// ```
/// let text = "Met w/ ofcs on scene. Pt denied SI/HI.\n- Dispo: home w/ mother";
/// let units: Vec<&str> = notecoder::segment(text).iter().map(|s| &text[s.start..s.end]).collect();
/// assert_eq!(units, ["Met w/ ofcs on scene.", "Pt denied SI/HI.", "Dispo:", "home w/ mother"]);
/// ```
pub fn segment(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut line_start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i <= bytes.len() {
        if i == bytes.len() || bytes[i] == b'\n' || bytes[i] == b'\r' {
            segment_line(text, line_start, i, &mut out);
            if i < bytes.len() && bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            line_start = i + 1;
        }
        i += 1;
    }
    out
}

fn segment_line(text: &str, start: usize, end: usize, out: &mut Vec<Span>) {
    let mut s = skip_space(text, start, end);
    s = skip_bullet(text, s, end);
    let mut piece_start = s;
    for boundary in sentence_ends(text, s, end) {
        emit_piece(text, piece_start, boundary, out);
        piece_start = boundary;
    }
    emit_piece(text, piece_start, end, out);
}

/// Emits one sentence piece `[start, end)`, splitting off a leading header.
fn emit_piece(text: &str, start: usize, end: usize, out: &mut Vec<Span>) {
    let start = skip_space(text, start, end);
    if let Some(h) = header_end(text, start, end) {
        push_trimmed(text, start, h, out);
        push_trimmed(text, h, end, out);
    } else {
        push_trimmed(text, start, end, out);
    }
}

fn push_trimmed(text: &str, start: usize, end: usize, out: &mut Vec<Span>) {
    // Trim, then move both ends inward to grapheme-cluster boundaries, so that a unit never shares a cluster
    // with the whitespace around it: combining marks on a space before the unit (an accent typed after a
    // space) and a prepended mark fused with the space after it stay outside. Found by the `segment` fuzz
    // target.
    let mut s = start;
    loop {
        s = skip_space(text, s, end);
        let snapped = cluster_boundary_from(text, s);
        if snapped == s || snapped >= end {
            s = snapped;
            break;
        }
        s = snapped;
    }
    let mut e = end;
    loop {
        e = start + text[start..e].trim_end_matches(is_space).len();
        let snapped = cluster_boundary_before(text, e);
        if snapped == e || snapped <= s {
            e = snapped;
            break;
        }
        e = snapped;
    }
    if s < e && text[s..e].chars().any(char::is_alphanumeric) {
        out.push(Span { start: s, end: e });
    }
}

/// The first grapheme-cluster boundary (extended clusters, UAX #29) at or after byte `i` of `text`.
fn cluster_boundary_from(text: &str, i: usize) -> usize {
    let mut cursor = GraphemeCursor::new(i, text.len(), true);
    match cursor.is_boundary(text, 0) {
        Ok(true) => i,
        _ => cursor
            .next_boundary(text, 0)
            .ok()
            .flatten()
            .unwrap_or(text.len()),
    }
}

/// The last grapheme-cluster boundary at or before byte `i` of `text`.
fn cluster_boundary_before(text: &str, i: usize) -> usize {
    let mut cursor = GraphemeCursor::new(i, text.len(), true);
    match cursor.is_boundary(text, 0) {
        Ok(true) => i,
        _ => cursor.prev_boundary(text, 0).ok().flatten().unwrap_or(0),
    }
}

fn skip_space(text: &str, mut i: usize, end: usize) -> usize {
    for c in text[i..end].chars() {
        if !is_space(c) {
            break;
        }
        i += c.len_utf8();
    }
    i
}

/// Returns the position after a bullet or number marker at `i` (and its following space), or `i`.
fn skip_bullet(text: &str, i: usize, end: usize) -> usize {
    let rest = &text[i..end];
    let mut chars = rest.char_indices();
    let marker_end = match chars.next() {
        Some((_, c)) if BULLETS.contains(&c) => c.len_utf8(),
        Some((_, '(')) => {
            let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
            if (1..=3).contains(&digits) && rest.as_bytes().get(1 + digits) == Some(&b')') {
                digits + 2
            } else {
                return i;
            }
        }
        Some((_, c)) if c.is_ascii_digit() => {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            match rest.as_bytes().get(digits) {
                Some(b'.') | Some(b')') if digits <= 2 => digits + 1,
                _ => return i,
            }
        }
        Some((_, c)) if c.is_ascii_lowercase() && rest.as_bytes().get(1) == Some(&b')') => 2,
        _ => return i,
    };
    match rest[marker_end..].chars().next() {
        Some(c) if is_space(c) => skip_space(text, i + marker_end, end),
        _ => i,
    }
}

/// If a header (`Label:`) starts at `i`, returns the position just after its colon.
fn header_end(text: &str, i: usize, end: usize) -> Option<usize> {
    let rest = &text[i..end];
    let colon = rest.find(':')?;
    if colon == 0 || colon > 30 {
        return None;
    }
    let label = &rest[..colon];
    let first = label.chars().next()?;
    if !first.is_uppercase() {
        return None;
    }
    let ok_chars = label
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '/' | '&' | '\'' | '-' | '(' | ')'));
    let words: Vec<&str> = label.split(' ').filter(|w| !w.is_empty()).collect();
    // `re:` closes a phrase ("Psychoed w/ mother re: ..."), not a header.
    if !ok_chars
        || label.ends_with(' ')
        || words.len() > 3
        || words.last().is_some_and(|w| w.eq_ignore_ascii_case("re"))
    {
        return None;
    }
    match rest[colon + 1..].chars().next() {
        None => Some(i + colon + 1),
        Some(c) if is_space(c) => Some(i + colon + 1),
        _ => None,
    }
}

/// Byte positions in `[start, end)` just after each sentence-ending punctuation run (and its closers).
fn sentence_ends(text: &str, start: usize, end: usize) -> Vec<usize> {
    let s = &text[start..end];
    let mut out = Vec::new();
    let mut iter = s.char_indices().peekable();
    while let Some((pos, c)) = iter.next() {
        if !matches!(c, '.' | '!' | '?' | '\u{2026}') {
            continue;
        }
        let mut run_end = pos + c.len_utf8();
        let mut strong = matches!(c, '!' | '?');
        let mut dots = usize::from(c == '.');
        while let Some(&(p, n)) = iter.peek() {
            if matches!(n, '.' | '!' | '?' | '\u{2026}') {
                strong |= matches!(n, '!' | '?');
                dots += usize::from(n == '.');
                if n == '\u{2026}' {
                    dots += 3;
                }
                run_end = p + n.len_utf8();
                iter.next();
            } else {
                break;
            }
        }
        if c == '\u{2026}' {
            dots += 3;
        }
        while let Some(&(p, n)) = iter.peek() {
            if CLOSERS.contains(&n) {
                run_end = p + n.len_utf8();
                iter.next();
            } else {
                break;
            }
        }
        let next = s[run_end..].chars().next();
        match next {
            Some(n) if is_space(n) => {}
            _ => continue,
        }
        let next_word = s[run_end..].trim_start_matches(is_space).chars().next();
        let Some(next_word) = next_word else { continue };
        let capital_next = next_word.is_uppercase();
        let is_end = if strong {
            true
        } else if dots > 1 {
            capital_next
        } else {
            period_ends(&s[..pos], capital_next, next_word)
        };
        if is_end {
            out.push(start + run_end);
        }
    }
    out
}

/// Whether a single `.` ends a sentence, given the text before it on the line and the next word's first char.
fn period_ends(before: &str, capital_next: bool, next: char) -> bool {
    let word = before.rsplit(is_space).next().unwrap_or("");
    let word = word.trim_start_matches(|c: char| {
        matches!(c, '(' | '[' | '"' | '\'' | '\u{201C}' | '\u{2018}')
    });
    if word.is_empty() {
        return true;
    }
    let mut chars = word.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if c.is_uppercase() {
            return false;
        }
    }
    let lower = word.to_lowercase();
    // `Ofc. Ruiz` is a title; a lowercase `ofc.` in shorthand ("told ofc. pt left") ends a sentence.
    if lower == "ofc" && !word.starts_with('O') {
        return true;
    }
    if lower == "no" {
        return !next.is_ascii_digit() && capital_next;
    }
    if NEVER_ENDS.contains(&lower.as_str()) {
        return false;
    }
    if ENDS_BEFORE_CAPITAL.contains(&lower.as_str()) {
        return capital_next;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Segments `input` and compares the unit texts with `expect`; also checks the span invariants.
    fn check(input: &str, expect: &[&str]) {
        let spans = segment(input);
        let mut last = 0;
        for s in &spans {
            assert!(
                s.start >= last && s.start < s.end && s.end <= input.len(),
                "bad span {s:?}"
            );
            assert!(input.is_char_boundary(s.start) && input.is_char_boundary(s.end));
            last = s.end;
        }
        let got: Vec<&str> = spans.iter().map(|s| &input[s.start..s.end]).collect();
        assert_eq!(got, expect, "input: {input:?}");
    }

    #[test]
    fn sentences_and_fragments() {
        check(
            "Met w/ ofcs on scene. Pt denied SI/HI.",
            &["Met w/ ofcs on scene.", "Pt denied SI/HI."],
        );
        check(
            "pt calm. denied SI. f/u tmrw",
            &["pt calm.", "denied SI.", "f/u tmrw"],
        );
        check("Is he safe? Yes! Ok.", &["Is he safe?", "Yes!", "Ok."]);
        check(
            "He said \"I'm done.\" Then left.",
            &["He said \"I'm done.\"", "Then left."],
        );
        check("Pt took 2.5 mg. Slept.", &["Pt took 2.5 mg.", "Slept."]);
    }

    #[test]
    fn abbreviations_do_not_end_sentences() {
        check(
            "Spoke w/ Dr. Lee re: meds.",
            &["Spoke w/ Dr. Lee re: meds."],
        );
        check(
            "Met pt. at home, approx. 20 min.",
            &["Met pt. at home, approx. 20 min."],
        );
        check("Met pt. Pt was calm.", &["Met pt.", "Pt was calm."]);
        check(
            "Arrived at 3 p.m. and met Sgt. Ruiz.",
            &["Arrived at 3 p.m. and met Sgt. Ruiz."],
        );
        check(
            "Arrived at 3 p.m. Pt was asleep.",
            &["Arrived at 3 p.m.", "Pt was asleep."],
        );
        check(
            "Basic needs, e.g. food and a coat.",
            &["Basic needs, e.g. food and a coat."],
        );
        check(
            "Called J. Smith from the shelter.",
            &["Called J. Smith from the shelter."],
        );
        check("Case no. 4 closed.", &["Case no. 4 closed."]);
        check(
            "no prior tx. called dad. told ofcs. pt left",
            &["no prior tx.", "called dad.", "told ofcs.", "pt left"],
        );
        check(
            "per ofc. writer went. Ofc. Diaz stayed.",
            &["per ofc.", "writer went.", "Ofc. Diaz stayed."],
        );
        check("Summary incl. SI plan.", &["Summary incl. SI plan."]);
        check("Pt was... unclear. Left.", &["Pt was... unclear.", "Left."]);
        check("Pt was... Then left.", &["Pt was...", "Then left."]);
    }

    #[test]
    fn lines_bullets_and_numbers() {
        check(
            "line one\nline two\r\nline three\rline four",
            &["line one", "line two", "line three", "line four"],
        );
        check(
            "- met pt\n* spoke w/ mother\n\u{2022} ED",
            &["met pt", "spoke w/ mother", "ED"],
        );
        check(
            "1. arrived\n2) met pt\n(3) left\na) done",
            &["arrived", "met pt", "left", "done"],
        );
        check("1430 arrived on scene", &["1430 arrived on scene"]);
        check("---\n\n   \n", &[]);
        check("-5 degrees outside", &["-5 degrees outside"]);
    }

    #[test]
    fn headers_are_units_of_their_own() {
        check(
            "MSE: A&Ox3, flat affect. No AH/VH.",
            &["MSE:", "A&Ox3, flat affect.", "No AH/VH."],
        );
        check("Dispo:\n- voluntary to ED", &["Dispo:", "voluntary to ED"]);
        check(
            "Denied SI. Dispo: home.",
            &["Denied SI.", "Dispo:", "home."],
        );
        check("Arrived 14:30 at home", &["Arrived 14:30 at home"]);
        check("pt stated: leave me alone", &["pt stated: leave me alone"]);
        check(
            "Reason for call: pt yelling",
            &["Reason for call:", "pt yelling"],
        );
    }

    #[test]
    fn spans_are_trimmed_exact_offsets() {
        let text = "  \u{A0}Pt \u{1F469}\u{200D}\u{1F467} calm.\u{200B}  Denied SI.\t";
        check(text, &["Pt \u{1F469}\u{200D}\u{1F467} calm.", "Denied SI."]);
        assert_eq!(segment(text)[0].start, 4);
    }

    #[test]
    fn combining_marks_after_a_space_stay_outside_units() {
        // Found by the segment fuzz target: a unit started on an accent typed after a space, inside the
        // grapheme cluster (space + U+0301).
        let text = "Zoe refused.  \u{301} Pt calm. \u{301}\u{301}Met w/ ofcs.";
        check(text, &["Zoe refused.", "Pt calm.", "Met w/ ofcs."]);
        assert_eq!(segment(text)[1].start, 17);
        // A prepended mark (U+0600, Arabic number sign) fuses with the space after it: the unit ends before it.
        check("Pt calm \u{600} ", &["Pt calm"]);
        check("ab\u{600} cd. Ef", &["ab\u{600} cd.", "Ef"]);
    }

    #[test]
    fn degenerate_inputs() {
        check("", &[]);
        check("   ", &[]);
        check("...!?", &[]);
        check("word", &["word"]);
        check(".", &[]);
        check("\r\n\r", &[]);
    }
}
