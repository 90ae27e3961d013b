//! notecoder suggests the codes of the co-response framework (`docs/framework.md`) for a clinician's note,
//! with the sentences that carry them, on the device: no note text leaves the process.
//!
//! Layers, from text to suggestions: [`segment()`] splits a note into coding units (byte spans);
//! [`tokenize::TextEncoder`] turns a unit into token windows (`[windows][tokens]` i64 ids); [`model::Model`]
//! runs the ONNX classifier with tract (`[batch, seq] i64` -> `[batch, codes] f32` logits); [`NoteCoder`]
//! ties them together with the [`Codebook`]'s labels and thresholds and caches unit scores between calls.
//! This crate reads no file and touches no JS outside `wasm.rs`.
//!
//! ```no_run
//! # fn main() -> notecoder::Result<()> {
//! use notecoder::{ModelFiles, NoteCoder};
//! let dir = std::path::Path::new("models/coresponse-v1");
//! let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
//! let (config, codebook, tokenizer, model) =
//!     (read("config.json"), read("codebook.json"), read("tokenizer.json"), read("model.onnx"));
//! let mut coder = NoteCoder::from_bytes(ModelFiles { config: &config, codebook: &codebook, tokenizer: &tokenizer, model: &model })?;
//! let s = coder.suggest("Met w/ ofcs on scene. Pt denied SI/HI.")?;
//! for code in s.codes.iter().filter(|c| c.suggested) {
//!     println!("{} {:.2}", code.id, code.score);
//! }
//! # Ok(()) }
//! ```

pub mod codebook;
pub mod config;
pub mod error;
pub mod eval;
pub mod model;
pub mod offsets;
#[cfg(not(target_arch = "wasm32"))]
pub mod qda;
pub mod segment;
pub mod suggest;
pub mod tokenize;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use codebook::{Code, Codebook, Domain};
pub use config::ModelConfig;
pub use error::{Error, Result};
pub use offsets::OffsetUnit;
pub use segment::{segment, Span};
pub use suggest::{
    CodeSuggestion, Coverage, Evidence, ModelFiles, NoteCoder, ScoredSegment, Suggestions,
};
