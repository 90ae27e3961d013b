//! The WebAssembly adapter: the only file that knows about JavaScript.
//!
//! Exports one class, `NoteCoder`, built from the four files of a model folder as bytes. Every export
//! returns `Result<_, JsError>`, so a bad input rejects with a message instead of trapping. Results are plain
//! JS objects (serde-wasm-bindgen, JSON-compatible) with offsets in UTF-16 code units, so that
//! `text.slice(start, end)` is the evidence segment. A lone surrogate in the input arrives as U+FFFD, which
//! is also one UTF-16 code unit, so offsets stay exact.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::offsets::{convert, OffsetUnit};
use crate::suggest::{ModelFiles, NoteCoder as Core};

extern "C" {
    /// Synthesized by wasm-ld: runs the module's static constructors (tract-core registers its operators with
    /// the `inventory` crate, which on wasm uses constructors).
    fn __wasm_call_ctors();
}

/// Runs once, when the JS glue instantiates the module. Calling the constructors explicitly matters for speed:
/// when nothing calls `__wasm_call_ctors`, wasm-ld wraps every export in a call to it, so every `suggest()`
/// and `logits()` re-ran all of tract's registrations (about 40 % of a small model call in Chromium).
#[wasm_bindgen(start)]
fn start() {
    // SAFETY: called exactly once, before any other export can run (wasm-bindgen's `init` calls the start
    // function right after instantiation), as the linker's convention expects.
    unsafe { __wasm_call_ctors() }
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    value
        .serialize(&ser)
        .map_err(|e| JsError::new(&format!("serialising the result failed: {e}")))
}

/// A loaded model folder. `new NoteCoder(config, codebook, tokenizer, model)` takes the bytes
/// (`Uint8Array`) of `config.json`, `codebook.json`, `tokenizer.json` and `model.onnx`.
#[wasm_bindgen(js_name = NoteCoder)]
pub struct JsNoteCoder {
    inner: Core,
}

#[wasm_bindgen(js_class = NoteCoder)]
impl JsNoteCoder {
    /// Loads and checks the model folder; throws an `Error` naming the file and the problem.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: &[u8],
        codebook: &[u8],
        tokenizer: &[u8],
        model: &[u8],
    ) -> Result<JsNoteCoder, JsError> {
        let inner = Core::from_bytes(ModelFiles {
            config,
            codebook,
            tokenizer,
            model,
        })?;
        Ok(JsNoteCoder { inner })
    }

    /// The codebook as a plain object: `{name, version, domains: [{id, label, description}],
    /// codes: [{id, domain, label, definition, use_when, do_not_use_when, colour, threshold}]}`.
    pub fn codebook(&self) -> Result<JsValue, JsError> {
        to_js(self.inner.codebook())
    }

    /// Suggests codes for `text`: `{codes: [{id, domain, label, score, suggested, evidence: [{start, end,
    /// score}]}], coverage: {segments, windows, windowedSegments, maxWindowsPerSegment}}`, one code entry per
    /// code in codebook order; `start`/`end` in UTF-16 code units, scores in [0, 1] (see [`crate::Coverage`]).
    pub fn suggest(&mut self, text: &str) -> Result<JsValue, JsError> {
        let mut s = self.inner.suggest(text)?;
        convert(text, &mut s, OffsetUnit::Utf16);
        to_js(&s)
    }

    /// Runs the model alone on token ids (no segmenter, no tokenizer): `inputIds` and `attentionMask` are
    /// `BigInt64Array`s holding `[batch, seq] i64` row-major; returns the logits `[batch, codes]` as a
    /// row-major `Float32Array`. For parity checks and benchmarks against other runtimes; throws on ids
    /// outside the vocabulary, mask values other than 0/1, a row with no token, or lengths other than
    /// `batch * seq`.
    pub fn logits(
        &self,
        #[wasm_bindgen(js_name = inputIds)] input_ids: &[i64],
        #[wasm_bindgen(js_name = attentionMask)] attention_mask: &[i64],
        batch: usize,
        seq: usize,
    ) -> Result<Vec<f32>, JsError> {
        Ok(self.inner.logits(input_ids, attention_mask, batch, seq)?)
    }
}

/// Test hook, not part of the API: panics on purpose. The build aborts on panic, so this traps (a
/// `WebAssembly.RuntimeError`), which lets the browser tests check that a crash poisons only its worker.
#[doc(hidden)]
#[wasm_bindgen(js_name = __panicForTests)]
pub fn panic_for_tests() {
    panic!("deliberate panic (test hook)");
}
