//! Times the model alone (tract, native, one thread) on token-id batches written by `bench/native.py`, so that
//! the native benchmark compares it with onnxruntime on exactly the same inputs:
//! `cargo run --release --example run_ids -- BATCHES_FILE REPEAT [MODEL_DIR]`.
//!
//! The file is a sequence of batches, each `batch: u32 LE`, `seq: u32 LE`, then `input_ids` and
//! `attention_mask` as `[batch, seq] i64 LE`, row-major. Prints the best of REPEAT passes over all batches in
//! seconds (model calls only; reading the file and loading the model are not timed).

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (path, repeat) = (&args[1], args[2].parse::<usize>().expect("REPEAT"));
    let dir = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/models/coresponse-v1").into());
    let read = |f: &str| std::fs::read(format!("{dir}/{f}")).expect("model file");
    let (config, codebook, tokenizer, model) = (
        read("config.json"),
        read("codebook.json"),
        read("tokenizer.json"),
        read("model.onnx"),
    );
    let coder = notecoder::NoteCoder::from_bytes(notecoder::ModelFiles {
        config: &config,
        codebook: &codebook,
        tokenizer: &tokenizer,
        model: &model,
    })
    .expect("model folder");
    let bytes = std::fs::read(path).expect("batches file");
    let mut batches = Vec::new();
    let mut at = 0;
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
    while at < bytes.len() {
        let (b, s) = (u32_at(at), u32_at(at + 4));
        at += 8;
        let mut take = || {
            let v: Vec<i64> = bytes[at..at + 8 * b * s]
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                .collect();
            at += 8 * b * s;
            v
        };
        let (ids, mask) = (take(), take());
        batches.push((ids, mask, b, s));
    }
    let (ids, mask, b, s) = &batches[0];
    coder.logits(ids, mask, *b, *s).expect("warm-up call");
    let mut best = f64::INFINITY;
    for _ in 0..repeat {
        let t = Instant::now();
        for (ids, mask, b, s) in &batches {
            coder.logits(ids, mask, *b, *s).expect("model call");
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{best:.6}");
}
