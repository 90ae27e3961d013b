//! `config.json` of a model folder: how text becomes model input.
//!
//! The training pipeline writes it and reads the same values, so preprocessing is never copied by hand.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Preprocessing settings shared by the training pipeline and the runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Version of this file's format; this runtime reads format 1.
    pub format: u32,
    /// Name of the model (the folder's name by convention, e.g. `coresponse-v1`).
    pub name: String,
    /// Longest token window fed to the model, special tokens included. A longer segment is scored in
    /// overlapping windows of this many tokens and its score per code is the maximum over its windows.
    pub max_tokens: usize,
    /// Tokens shared by two consecutive windows of a long segment (`stride` in the `tokenizers` library's
    /// truncation settings); must leave room for new tokens in each window.
    pub window_overlap: usize,
    /// Rows of the model's embedding table: every token id must be below it (an out-of-range id would make
    /// the model's Gather fail).
    pub vocab_size: usize,
    /// Whether the tokenizer adds its special tokens (`[CLS]`, `[SEP]`) around each window.
    pub add_special_tokens: bool,
}

impl ModelConfig {
    /// Parses and validates `config.json` bytes. Errors with [`Error::Config`] on malformed JSON, an unknown
    /// field, a format other than 1, `max_tokens` outside `4..=4096`, or an overlap of half a window or more, or a zero `vocab_size`.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let c: ModelConfig = serde_json::from_slice(bytes)
            .map_err(|e| Error::Config(format!("not a valid config.json: {e}")))?;
        if c.format != 1 {
            return Err(Error::Config(format!(
                "format {} is not supported (this runtime reads format 1)",
                c.format
            )));
        }
        if !(4..=4096).contains(&c.max_tokens) {
            return Err(Error::Config(format!(
                "max_tokens {} is outside 4..=4096",
                c.max_tokens
            )));
        }
        if c.window_overlap >= c.max_tokens / 2 {
            return Err(Error::Config(format!(
                "window_overlap {} must be below half of max_tokens ({})",
                c.window_overlap, c.max_tokens
            )));
        }
        if c.vocab_size == 0 {
            return Err(Error::Config("vocab_size is 0".into()));
        }
        Ok(c)
    }
}
