//! Any text: offsets stay exact whatever comes before the evidence, every line ending is a line end, degenerate
//! and huge inputs neither panic nor lose text, and the invariants of spans and scores hold on thousands of
//! generated inputs mixing the characters that break naive code.

mod common;

use notecoder::offsets::convert;
use notecoder::tokenize::TextEncoder;
use notecoder::{ModelConfig, NoteCoder, OffsetUnit};
use unicode_segmentation::UnicodeSegmentation;

const EVIDENCE: &str = "Pt denied SI/HI.";

fn coder() -> NoteCoder {
    common::load(&common::model_bytes()).unwrap()
}

/// Grapheme cluster boundaries of `text`, in UTF-8 bytes.
fn grapheme_boundaries(text: &str) -> Vec<usize> {
    let mut b: Vec<usize> = text.grapheme_indices(true).map(|(i, _)| i).collect();
    b.push(text.len());
    b
}

/// Checks every invariant of a suggestion for `text` and returns the risk evidence as text, if any.
fn check(coder: &mut NoteCoder, text: &str) -> Vec<String> {
    let s = coder.suggest(text).unwrap();
    let graphemes = grapheme_boundaries(text);
    for c in &s.codes {
        assert!(
            (0.0..=1.0).contains(&c.score),
            "score {} of {}",
            c.score,
            c.id
        );
        let mut last_end = 0;
        for e in &c.evidence {
            assert!(
                e.start < e.end && e.end <= text.len(),
                "span {}..{} of {} bytes",
                e.start,
                e.end,
                text.len()
            );
            assert!(text.is_char_boundary(e.start) && text.is_char_boundary(e.end));
            assert!(e.start >= last_end, "spans overlap or are out of order");
            assert!(
                graphemes.binary_search(&e.start).is_ok()
                    && graphemes.binary_search(&e.end).is_ok(),
                "span {}..{} cuts a grapheme cluster",
                e.start,
                e.end
            );
            assert!((0.0..=1.0).contains(&e.score));
            last_end = e.end;
        }
    }
    // The same evidence in UTF-16 code units (JS) and Unicode scalars (CLI, Python) slices the same text.
    let risk_bytes: Vec<String> = s
        .codes
        .iter()
        .find(|c| c.id == "assessed.risk")
        .unwrap()
        .evidence
        .iter()
        .map(|e| text[e.start..e.end].to_string())
        .collect();
    let utf16: Vec<u16> = text.encode_utf16().collect();
    let scalars: Vec<char> = text.chars().collect();
    let mut s16 = s.clone();
    convert(text, &mut s16, OffsetUnit::Utf16);
    let mut s32 = s;
    convert(text, &mut s32, OffsetUnit::Scalar);
    for (k, c) in s16.codes.iter().enumerate() {
        for (j, e) in c.evidence.iter().enumerate() {
            let a = String::from_utf16(&utf16[e.start..e.end]).unwrap();
            let e32 = &s32.codes[k].evidence[j];
            let b: String = scalars[e32.start..e32.end].iter().collect();
            assert_eq!(a, b);
        }
    }
    risk_bytes
}

#[test]
fn offsets_stay_exact_after_astral_zwj_combining_ligature_nbsp_zero_width_rtl_and_tabs() {
    let mut c = coder();
    // (text before the evidence sentence, the unit that must be the risk evidence)
    let cases = [
        ("\u{1F600} ", "\u{1F600} Pt denied SI/HI."),  // astral emoji (2 UTF-16 units, 4 bytes), same sentence
        ("\u{1F600}\n", EVIDENCE),
        ("\u{1F469}\u{200D}\u{1F469}\u{200D}\u{1F467}\n", EVIDENCE), // ZWJ family: one grapheme, 5 scalars
        ("Jose\u{301} visited. ", EVIDENCE),               // combining acute accent
        ("\u{FB01}ne night. ", EVIDENCE),                  // ligature fi
        ("Arrived\u{A0}at\u{A0}2200. ", EVIDENCE),        // NBSP
        ("On\u{200B}scene.\u{200B} ", EVIDENCE),          // zero-width space
        ("\u{5D4}\u{5DE}\u{5D8}\u{5D5}\u{5E4}\u{5DC} \u{627}\u{644}\u{645}\u{631}\u{64A}\u{636}. ", EVIDENCE), // RTL
        ("\t\tOn scene.   \t  ", EVIDENCE),               // tabs and runs of spaces
        ("\u{1F1FA}\u{1F1F8}\n", EVIDENCE),                // a flag: two regional indicators
    ];
    for (p, want) in cases {
        let text = format!("{p}{EVIDENCE}");
        assert_eq!(check(&mut c, &text), [want], "prefix {p:?}");
    }
}

#[test]
fn crlf_lone_cr_and_lf_all_end_lines() {
    let mut c = coder();
    let units = |t: &str| {
        notecoder::segment(t)
            .iter()
            .map(|s| t[s.start..s.end].to_string())
            .collect::<Vec<_>>()
    };
    let want = ["Spoke w/ ofcs", EVIDENCE, "Dispo:", "home"];
    for nl in ["\n", "\r\n", "\r"] {
        let text = format!("Spoke w/ ofcs{nl}{EVIDENCE}{nl}Dispo: home{nl}");
        assert_eq!(units(&text), want, "line ending {nl:?}");
        assert_eq!(check(&mut c, &text), [EVIDENCE]);
    }
}

#[test]
fn empty_whitespace_punctuation_and_single_words_give_calm_answers() {
    let mut c = coder();
    for text in [
        "",
        " ",
        "\n\r\n\t",
        "\u{A0}\u{200B}",
        "...",
        "?!?!",
        "---",
        "x",
        "ok",
        "pt",
        "\u{1F600}",
    ] {
        let s = c.suggest(text).unwrap();
        assert_eq!(s.codes.len(), 10);
        assert!(
            s.codes.iter().all(|k| (0.0..=1.0).contains(&k.score)),
            "{text:?}"
        );
        if !text.chars().any(char::is_alphanumeric) {
            assert!(
                s.codes
                    .iter()
                    .all(|k| k.evidence.is_empty() && !k.suggested),
                "{text:?}"
            );
        }
    }
}

#[test]
fn html_pasted_as_text_is_text() {
    let mut c = coder();
    let text = "<p>Met w/ ofcs.</p><script>alert(1)</script> Pt denied SI/HI.";
    let risk = check(&mut c, text);
    assert_eq!(risk.len(), 1);
    assert!(risk[0].ends_with(EVIDENCE), "{risk:?}");
}

#[test]
fn a_long_paste_and_a_5000_char_sentence_lose_nothing() {
    let mut c = coder();
    // 200,000 characters of note: every unit is scored; evidence from the very end is found.
    let block = "Met w/ ofcs on scene. Pt calm, oriented x3. Mother reports poor sleep. ";
    let mut text = block.repeat(200_000 / block.len() + 1);
    text.push_str(EVIDENCE);
    assert!(text.len() >= 200_000);
    let segments = c.score_note(&text).unwrap();
    assert_eq!(segments.len(), notecoder::segment(&text).len());
    assert!(
        segments.iter().all(|s| s.windows == 1),
        "short units: one window each"
    );
    let risk = check(&mut c, &text);
    assert_eq!(risk.last().map(String::as_str), Some(EVIDENCE));

    // A 5,000-character run-on with no punctuation is one unit, windowed: the windows together hold every
    // token of the unit (no silent truncation), and a risk phrase at its very end still counts.
    let words = "the client was walking along the road talking about many things ";
    let mut long = words.repeat(5_000 / words.len());
    long.push_str("and denied SI");
    assert!(long.len() >= 5_000);
    assert_eq!(notecoder::segment(&long).len(), 1);
    let files = common::model_bytes();
    let config = ModelConfig::from_json(&files[0]).unwrap();
    let enc = TextEncoder::from_json(&files[2], &config).unwrap();
    let windows = enc.windows(&long).unwrap();
    assert!(windows.len() > 1);
    let unique: usize = windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let body = w.len() - 2; // [CLS] ... [SEP]
            if i == 0 {
                body
            } else {
                body - config.window_overlap
            }
        })
        .sum();
    let single = TextEncoder::from_json(
        &files[2],
        &ModelConfig {
            max_tokens: 4096,
            window_overlap: 0,
            ..config.clone()
        },
    )
    .unwrap();
    assert_eq!(
        unique + 2,
        single.windows(&long).unwrap()[0].len(),
        "windows do not cover the unit's tokens"
    );
    let s = c.suggest(&long).unwrap();
    // The coverage report says so: one segment, split into exactly the windows the tokenizer made.
    assert_eq!(
        s.coverage,
        notecoder::Coverage {
            segments: 1,
            windows: windows.len(),
            windowed_segments: 1,
            max_windows_per_segment: windows.len(),
        }
    );
    let risk = s.codes.iter().find(|k| k.id == "assessed.risk").unwrap();
    assert!(
        risk.suggested,
        "the phrase in the last window is scored (risk {})",
        risk.score
    );
}

#[test]
fn invariants_hold_on_generated_inputs() {
    // Deterministic generator (xorshift) over a pool of troublesome pieces: no randomness between runs.
    let pool = [
        "Pt",
        " denied",
        " SI/HI",
        ".",
        "!",
        "?",
        "…",
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "\u{A0}",
        "\u{200B}",
        "\u{1F600}",
        "\u{1F469}\u{200D}\u{1F467}",
        "e\u{301}",
        "\u{FB01}",
        "\u{5D4}\u{5DE}",
        "- ",
        "1. ",
        "MSE:",
        "Dr.",
        "pt.",
        "e.g.",
        "\"",
        ")",
        "ofcs",
        " mother",
        " EMS",
        "Sec 12",
        "<b>",
        "&amp;",
        "\u{0}",
        "\u{FFFD}",
        "\u{FEFF}",
        "ÄÖÜ",
        "日本語",
        "x",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut c = coder();
    for _ in 0..2_000 {
        let n = (next() % 40) as usize;
        let text: String = (0..n)
            .map(|_| pool[(next() % pool.len() as u64) as usize])
            .collect();
        check(&mut c, &text);
        let spans = notecoder::segment(&text);
        let mut last = 0;
        for s in &spans {
            assert!(s.start >= last && s.start < s.end && s.end <= text.len());
            assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
            last = s.end;
        }
    }
}
