//! Arbitrary model-folder bytes: the first input byte picks the file to replace (0 model.onnx, 1 config.json,
//! 2 codebook.json, 3 tokenizer.json), the rest is its content. The other files are those of a small base
//! folder: the shipped model and codebook with a 20-token tokenizer and its config (`fuzz/base/`, written by
//! `fuzz/make_seeds.py`; the shipped 700 KB tokenizer would make every run 10x slower). Loading
//! must give a typed error or a coder; a coder that loads must score a note without panicking, and when it
//! scores, the suggestions keep every invariant of the `suggest` target (scores in [0, 1] even for a model
//! that outputs NaN or infinities).
#![no_main]
use libfuzzer_sys::fuzz_target;
use notecoder::{ModelFiles, NoteCoder};

#[path = "common.rs"]
mod common;

const NOTE: &str =
    "Met w/ ofcs on scene. Pt denied SI/HI, \u{1F642} calm.\nDispo: home w/ mother; f/u tmrw.";

/// notecoder turns a panic inside tract into `Error::Model` (`src/model.rs`, `contained`) and one inside the
/// tokenizers library into `Error::Tokenizer` (`src/tokenize.rs`, `encode`); libFuzzer's hook would abort on
/// them all the same. This hook lets panics raised in those libraries' code (and ndarray's) unwind to the
/// handlers, and keeps aborting on every other panic: one in notecoder or in these checks is a crash.
fn contain_only_tract_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let libfuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map(|l| l.file()).unwrap_or("");
            let contained = ["/tract-", "/ndarray-", "/tokenizers-"];
            if !contained.iter().any(|c| file.contains(c)) {
                libfuzzer_hook(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    contain_only_tract_panics();
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let mut files = ModelFiles {
        config: include_bytes!("../base/config.json"),
        codebook: common::CODEBOOK,
        tokenizer: include_bytes!("../base/tokenizer.json"),
        model: common::MODEL,
    };
    match which % 4 {
        0 => files.model = bytes,
        1 => files.config = bytes,
        2 => files.codebook = bytes,
        _ => files.tokenizer = bytes,
    }
    let Ok(mut coder) = NoteCoder::from_bytes(files) else {
        return;
    };
    if let Ok(s) = coder.suggest(NOTE) {
        common::check_suggestions(&coder, NOTE, &s);
    }
});
