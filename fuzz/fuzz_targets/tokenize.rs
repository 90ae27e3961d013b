//! The tokenizer path (segment -> `TextEncoder::windows`) on arbitrary UTF-8: no panic, no error; every window
//! non-empty, at most `max_tokens` long, every id inside the model's vocabulary.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use notecoder::tokenize::TextEncoder;
use notecoder::ModelConfig;

#[path = "common.rs"]
mod common;

fn encoder() -> &'static (ModelConfig, TextEncoder) {
    static E: OnceLock<(ModelConfig, TextEncoder)> = OnceLock::new();
    E.get_or_init(|| {
        let config = ModelConfig::from_json(common::CONFIG).unwrap();
        let enc = TextEncoder::from_json(common::TOKENIZER, &config).unwrap();
        (config, enc)
    })
}

fuzz_target!(|text: &str| {
    let (config, enc) = encoder();
    for span in common::check_segments(text) {
        let windows = enc
            .windows(&text[span.start..span.end])
            .expect("any unit encodes");
        for w in windows {
            assert!(
                !w.is_empty() && w.len() <= config.max_tokens,
                "window of {} tokens",
                w.len()
            );
            assert!(
                w.iter()
                    .all(|&id| (0..config.vocab_size as i64).contains(&id)),
                "id outside vocab"
            );
        }
    }
});
