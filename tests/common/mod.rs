//! Shared helpers for the integration tests: the shipped model folder.
#![allow(dead_code)]

use std::path::PathBuf;

use notecoder::{ModelFiles, NoteCoder};

/// `models/coresponse-v1` in this repository.
pub fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/coresponse-v1")
}

/// The four files of the shipped model, as bytes: config, codebook, tokenizer, model.
pub fn model_bytes() -> [Vec<u8>; 4] {
    let d = model_dir();
    [
        "config.json",
        "codebook.json",
        "tokenizer.json",
        "model.onnx",
    ]
    .map(|f| std::fs::read(d.join(f)).unwrap())
}

/// Loads a coder from the four files.
pub fn load(files: &[Vec<u8>; 4]) -> notecoder::Result<NoteCoder> {
    NoteCoder::from_bytes(ModelFiles {
        config: &files[0],
        codebook: &files[1],
        tokenizer: &files[2],
        model: &files[3],
    })
}
