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
    /// score}]}]}`, one entry per code in codebook order; `start`/`end` in UTF-16 code units, scores in [0, 1].
    pub fn suggest(&mut self, text: &str) -> Result<JsValue, JsError> {
        let mut s = self.inner.suggest(text)?;
        convert(text, &mut s, OffsetUnit::Utf16);
        to_js(&s)
    }
}
