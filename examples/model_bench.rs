//! Times the model alone (tract, native) on a few input shapes: `cargo run --release --example model_bench [MODEL_DIR]`.
//! Prints microseconds per call; the browser side-by-side lives in tests/browser/bench/runtime.js.

use std::time::Instant;

fn main() {
    let dir = std::env::args()
        .nth(1)
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
    for (batch, seq) in [(1, 19), (1, 128), (32, 36), (8, 128)] {
        let ids: Vec<i64> = (0..batch * seq)
            .map(|i| 1000 + (i as i64 * 37) % 20000)
            .collect();
        let mask = vec![1i64; batch * seq];
        for _ in 0..50 {
            coder.logits(&ids, &mask, batch, seq).unwrap();
        }
        let n = 2000;
        let t = Instant::now();
        for _ in 0..n {
            coder.logits(&ids, &mask, batch, seq).unwrap();
        }
        println!(
            "[{batch}, {seq}]: {:.1} us/call",
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
}
