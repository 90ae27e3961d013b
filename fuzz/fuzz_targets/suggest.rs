//! The whole pipeline (`NoteCoder::suggest` with the shipped model) on arbitrary UTF-8: no panic, no error;
//! scores in [0, 1]; `suggested` iff score >= threshold iff evidence; evidence spans are units, inside the
//! text, on char and grapheme boundaries, ordered, non-overlapping; coverage counts every unit.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|text: &str| {
    let mut coder = common::shipped().lock().unwrap();
    let s = coder.suggest(text).expect("any text is scored");
    common::check_suggestions(&coder, text, &s);
});
