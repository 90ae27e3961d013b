//! The suggestion pipeline on the shipped model: shapes, offsets, thresholds and the segment cache.

mod common;

use notecoder::offsets::convert;
use notecoder::OffsetUnit;

const NOTE: &str =
    "Met w/ ofcs on scene; they reported pt had a knife earlier. Pt denied SI/HI.\r\n\
    - Spoke w/ pt's mother by phone, she reports he is off his meds.\n\
    Clinician advised ofcs to give pt space. Pt accepted voluntary eval at ED.";

#[test]
fn one_entry_per_code_with_evidence_meeting_the_threshold() {
    let mut coder = common::load(&common::model_bytes()).unwrap();
    let s = coder.suggest(NOTE).unwrap();
    let book = coder.codebook().clone();
    assert_eq!(s.codes.len(), book.len());
    for (c, code) in s.codes.iter().zip(&book.codes) {
        assert_eq!(c.id, code.id);
        assert!((0.0..=1.0).contains(&c.score));
        assert_eq!(c.suggested, c.score >= code.threshold);
        assert_eq!(c.suggested, !c.evidence.is_empty());
        for e in &c.evidence {
            assert!(e.score >= code.threshold && e.score <= c.score);
        }
    }
    // Hand-checked against shared/framework.md: a denial of SI/HI is assessed.risk.
    let risk = s.codes.iter().find(|c| c.id == "assessed.risk").unwrap();
    assert!(risk.suggested);
    assert!(risk
        .evidence
        .iter()
        .any(|e| &NOTE[e.start..e.end] == "Pt denied SI/HI."));
}

#[test]
fn offsets_convert_to_utf16_and_scalars() {
    let mut coder = common::load(&common::model_bytes()).unwrap();
    let text = format!("\u{1F469}\u{200D}\u{1F467} café. {NOTE}");
    let bytes = coder.suggest(&text).unwrap();
    let utf16: Vec<u16> = text.encode_utf16().collect();
    let chars: Vec<char> = text.chars().collect();
    for (unit, check) in [(OffsetUnit::Utf16, true), (OffsetUnit::Scalar, false)] {
        let mut s = bytes.clone();
        convert(&text, &mut s, unit);
        for (cb, cu) in bytes.codes.iter().zip(&s.codes) {
            for (eb, eu) in cb.evidence.iter().zip(&cu.evidence) {
                let want = &text[eb.start..eb.end];
                let got = if check {
                    String::from_utf16(&utf16[eu.start..eu.end]).unwrap()
                } else {
                    chars[eu.start..eu.end].iter().collect()
                };
                assert_eq!(got, want);
            }
        }
    }
}

#[test]
fn typing_rescores_only_changed_segments() {
    let mut coder = common::load(&common::model_bytes()).unwrap();
    let a = coder.score_note(NOTE).unwrap();
    let edited = NOTE.replace("Pt denied SI/HI.", "Pt denied SI/HI today.");
    let b = coder.score_note(&edited).unwrap();
    assert_eq!(a.len(), b.len());
    let mut fresh = 0;
    for (x, y) in a.iter().zip(&b) {
        if std::sync::Arc::ptr_eq(&x.scores, &y.scores) {
            continue;
        }
        fresh += 1;
        assert_eq!(&edited[y.span.start..y.span.end], "Pt denied SI/HI today.");
    }
    assert_eq!(fresh, 1, "only the edited segment is scored again");
}

#[test]
fn degenerate_notes_give_no_suggestion() {
    let mut coder = common::load(&common::model_bytes()).unwrap();
    for text in ["", "   \n\t", "...!?", "\u{FFFD}"] {
        let s = coder.suggest(text).unwrap();
        assert!(
            s.codes.iter().all(|c| !c.suggested || text == "\u{FFFD}"),
            "{text:?}"
        );
    }
}
