//! The segmenter on arbitrary UTF-8: no panic; spans inside the text, on char and grapheme boundaries, ordered,
//! non-overlapping, trimmed; no letter or digit left out; offsets exact in UTF-16 and scalars.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|text: &str| {
    common::check_segments(text);
});
