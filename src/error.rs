//! The crate's error type. Messages name the problem and never carry note text.

/// Everything that can go wrong in the core. Messages are written for the person who ships the model or calls
/// the API; none of them quotes note text, so they are safe to log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `codebook.json` is not valid JSON of the expected form, or breaks a rule (named in the message).
    #[error("codebook: {0}")]
    Codebook(String),
    /// `config.json` is not valid JSON of the expected form, or holds an impossible value.
    #[error("model config: {0}")]
    Config(String),
    /// `tokenizer.json` could not be loaded or used.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The ONNX bytes are empty, not ONNX, or tract could not load, type or run them.
    #[error("model: {0}")]
    Model(String),
    /// Token ids or an attention mask handed to [`crate::NoteCoder::logits`] do not fit the model: wrong
    /// length, an id outside `0..vocab_size`, a mask value other than 0 or 1, or a row with no token.
    #[error("model input: {0}")]
    Input(String),
    /// The model's output does not have one logit per codebook code.
    #[error("model outputs {model} scores per segment but the codebook has {codebook} codes")]
    CodeCountMismatch {
        /// Number of logits the model produces per segment (last dimension of its output).
        model: usize,
        /// Number of codes in `codebook.json`.
        codebook: usize,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
