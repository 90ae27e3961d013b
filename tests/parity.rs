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
