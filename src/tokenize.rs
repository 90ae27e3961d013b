//! Text to token windows, with the model folder's `tokenizer.json` and the Hugging Face `tokenizers` library.
//!
//! The training pipeline encodes with the Python binding of the same library and the same settings
//! (truncation to `max_tokens` with `window_overlap` tokens shared by consecutive windows, no padding), so the
//! ids match exactly; `tests/parity.rs` checks this against ids written by the pipeline.

use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::config::ModelConfig;
use crate::error::{Error, Result};

/// The sentence every tokenizer must encode at load: letters, digits, punctuation, an accent and an emoji.
const PROBE: &str = "Pt denied SI/HI x3, caf\u{e9} \u{1F642}.";

/// Encodes with `tokenizers`, turning a panic inside the library into [`Error::Tokenizer`]. The panic's own
/// message is dropped: a panic on text (a string slice, say) can quote the text, and errors never carry note
/// text.
fn encode(tokenizer: &Tokenizer, text: &str, special: bool) -> Result<tokenizers::Encoding> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tokenizer.encode_fast(text, special)
    })) {
        Ok(Ok(enc)) => Ok(enc),
        Ok(Err(e)) => Err(Error::Tokenizer(format!("encoding failed: {e}"))),
        Err(_) => Err(Error::Tokenizer(
            "the tokenizers library panicked while encoding (a malformed tokenizer.json or a bug)"
                .into(),
        )),
    }
}

/// A tokenizer configured for one model.
pub struct TextEncoder {
    tokenizer: Tokenizer,
    add_special_tokens: bool,
    vocab_size: usize,
}

impl std::fmt::Debug for TextEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextEncoder")
            .field("vocab_size", &self.vocab_size)
            .finish()
    }
}

impl TextEncoder {
    /// Loads `tokenizer.json` bytes and applies the windowing of `config`.
    ///
    /// Errors with [`Error::Tokenizer`] when the bytes are not a tokenizer the library reads, when the
    /// overlap does not fit in a window, or when the tokenizer has more ids than the model's `vocab_size`.
    pub fn from_json(bytes: &[u8], config: &ModelConfig) -> Result<Self> {
        // The library panics on some malformed files (an `expect` in its decoder deserializer, found by the
        // `model_files` fuzz target) instead of returning an error: that is a malformed file too.
        let read = std::panic::catch_unwind(|| Tokenizer::from_bytes(bytes));
        let mut tokenizer = match read {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                return Err(Error::Tokenizer(format!(
                    "not a valid tokenizer.json ({} bytes): {e}",
                    bytes.len()
                )))
            }
            Err(_) => {
                return Err(Error::Tokenizer(format!(
                "not a valid tokenizer.json ({} bytes): the tokenizers library panicked reading it",
                bytes.len()
            )))
            }
        };
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: config.max_tokens,
                stride: config.window_overlap,
                strategy: TruncationStrategy::LongestFirst,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| {
                Error::Tokenizer(format!(
                    "cannot window to max_tokens {}: {e}",
                    config.max_tokens
                ))
            })?;
        // A tokenizer.json can load and still fail on every text (the `model_files` fuzz target found a template
        // that names a special token it does not define, which panics inside the library): try one sentence.
        encode(&tokenizer, PROBE, config.add_special_tokens).map_err(|e| {
            Error::Tokenizer(format!("it loads but cannot encode a test sentence ({e})"))
        })?;
        let vocab_size = tokenizer.get_vocab_size(true);
        if vocab_size > config.vocab_size {
            return Err(Error::Tokenizer(format!(
                "the tokenizer has {vocab_size} ids but the model embeds only {} (config vocab_size)",
                config.vocab_size
            )));
        }
        Ok(TextEncoder {
            tokenizer,
            add_special_tokens: config.add_special_tokens,
            vocab_size,
        })
    }

    /// Encodes one segment into token windows: `[windows][tokens]` ids (as i64, the model's dtype), each window
    /// at most `max_tokens` long. Text that yields no token at all gives no window.
    pub fn windows(&self, text: &str) -> Result<Vec<Vec<i64>>> {
        // `encode_fast` skips the offsets, which nothing here reads (evidence spans are whole segments); the
        // ids are the same (tests/parity.rs), and the segment's encoding takes about half the time.
        let enc = encode(&self.tokenizer, text, self.add_special_tokens)?;
        let mut out = Vec::with_capacity(1 + enc.get_overflowing().len());
        for e in std::iter::once(&enc).chain(enc.get_overflowing()) {
            let ids: Vec<i64> = e.get_ids().iter().map(|&id| i64::from(id)).collect();
            if let Some(&bad) = ids.iter().find(|&&id| id as usize >= self.vocab_size) {
                return Err(Error::Tokenizer(format!(
                    "token id {bad} is outside the vocabulary ({})",
                    self.vocab_size
                )));
            }
            if !ids.is_empty() {
                out.push(ids);
            }
        }
        Ok(out)
    }
}
