//! Parity with the training side: token ids and scores written by `training/train.py` with the Python
//! `tokenizers` binding and onnxruntime (tests/fixtures/parity.json) must be reproduced by the Rust core:
//! ids exactly, scores within 1e-4.

mod common;

use notecoder::tokenize::TextEncoder;
use notecoder::ModelConfig;
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    codes: Vec<String>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    windows: Vec<Vec<i64>>,
    scores: Vec<f32>,
}

fn fixture() -> Fixture {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/parity.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn token_ids_match_the_training_side_exactly() {
    let files = common::model_bytes();
    let config = ModelConfig::from_json(&files[0]).unwrap();
    let enc = TextEncoder::from_json(&files[2], &config).unwrap();
    let fx = fixture();
    assert!(
        fx.cases.len() >= 50,
        "the fixture holds {} cases",
        fx.cases.len()
    );
    assert!(
        fx.cases.iter().any(|c| c.windows.len() > 1),
        "no case exercises windowing"
    );
    for (i, case) in fx.cases.iter().enumerate() {
        assert_eq!(enc.windows(&case.text).unwrap(), case.windows, "case {i}");
    }
}

#[test]
fn scores_match_onnxruntime_within_1e_4() {
    let files = common::model_bytes();
    let coder = common::load(&files).unwrap();
    let fx = fixture();
    let ids: Vec<&str> = coder
        .codebook()
        .codes
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(ids, fx.codes, "codebook order differs from the fixture's");
    let texts: Vec<&str> = fx.cases.iter().map(|c| c.text.as_str()).collect();
    let got = coder.score_texts(&texts).unwrap();
    let mut worst = 0.0f32;
    for (i, (case, scores)) in fx.cases.iter().zip(&got).enumerate() {
        assert_eq!(scores.len(), case.scores.len(), "case {i}");
        for (k, (&a, &b)) in scores.iter().zip(&case.scores).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4,
                "case {i} code {k}: rust {a} vs onnxruntime {b}"
            );
            worst = worst.max((a - b).abs());
        }
    }
    eprintln!("largest score difference: {worst:e}");
}

#[test]
fn logits_on_the_fixture_ids_in_one_padded_batch_match_onnxruntime() {
    // The low-level `logits` call (behind the browser benchmark) on the training side's own ids: every
    // single-window case at once, padded to the longest, so padding must not change any row.
    let files = common::model_bytes();
    let coder = common::load(&files).unwrap();
    let fx = fixture();
    let cases: Vec<&Case> = fx.cases.iter().filter(|c| c.windows.len() == 1).collect();
    assert!(cases.len() >= 40, "{} single-window cases", cases.len());
    let seq = cases.iter().map(|c| c.windows[0].len()).max().unwrap();
    let (mut ids, mut mask) = (vec![0i64; cases.len() * seq], vec![0i64; cases.len() * seq]);
    for (r, c) in cases.iter().enumerate() {
        for (j, &id) in c.windows[0].iter().enumerate() {
            ids[r * seq + j] = id;
            mask[r * seq + j] = 1;
        }
    }
    let logits = coder.logits(&ids, &mask, cases.len(), seq).unwrap();
    let n = fx.codes.len();
    assert_eq!(logits.len(), cases.len() * n);
    for (r, c) in cases.iter().enumerate() {
        for k in 0..n {
            let score = 1.0 / (1.0 + (-logits[r * n + k]).exp());
            assert!(
                (score - c.scores[k]).abs() <= 1e-4,
                "case {r} code {k}: rust {score} vs onnxruntime {}",
                c.scores[k]
            );
        }
    }
}

#[test]
fn logits_rejects_inputs_that_do_not_fit_the_model() {
    let files = common::model_bytes();
    let coder = common::load(&files).unwrap();
    let msg = |ids: &[i64], mask: &[i64], b, s| match coder.logits(ids, mask, b, s) {
        Err(notecoder::Error::Input(m)) => m,
        other => panic!("expected an input error, got {other:?}"),
    };
    assert!(msg(&[101, 102], &[1, 1], 1, 3).contains("expected batch * seq = 3"));
    assert!(msg(&[], &[], 0, 4).contains("must be positive"));
    assert!(msg(&[101, 40_000], &[1, 1], 1, 2).contains("input_ids[1] = 40000 is outside 0..30522"));
    assert!(msg(&[101, -1], &[1, 1], 1, 2).contains("input_ids[1] = -1"));
    assert!(msg(&[101, 102], &[1, 2], 1, 2).contains("attention_mask[1] = 2"));
    assert!(
        msg(&[101, 102, 0, 0], &[1, 1, 0, 0], 2, 2).contains("row 1 of attention_mask has no 1")
    );
}
