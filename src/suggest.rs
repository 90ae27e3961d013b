//! The suggestion pipeline: note -> segments -> token windows -> logits -> per-code scores and evidence.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::codebook::Codebook;
use crate::config::ModelConfig;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::segment::{segment, Span};
use crate::tokenize::TextEncoder;

/// Windows per model call; bounds the padded batch (`[BATCH, max_tokens]`) and so peak memory.
const BATCH: usize = 32;

/// The four files of a model folder, as bytes. Nothing here reads files: the CLI reads them from disk, the
/// browser fetches them.
#[derive(Debug, Clone, Copy)]
pub struct ModelFiles<'a> {
    /// `config.json` ([`ModelConfig`]).
    pub config: &'a [u8],
    /// `codebook.json` ([`Codebook`]).
    pub codebook: &'a [u8],
    /// `tokenizer.json` (Hugging Face `tokenizers` format).
    pub tokenizer: &'a [u8],
    /// `model.onnx` (see [`crate::model`] for its contract).
    pub model: &'a [u8],
}

/// One piece of evidence: a segment that carries a code.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evidence {
    /// Start of the segment, in the offset unit of the [`Suggestions`] (UTF-8 bytes as returned by
    /// [`NoteCoder::suggest`]; see [`crate::offsets`] to convert).
    pub start: usize,
    /// End of the segment (exclusive), same unit.
    pub end: usize,
    /// The segment's score for the code, in `[0, 1]`.
    pub score: f32,
}

/// What the model says about one code of the codebook for a whole note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeSuggestion {
    /// Code id (`assessed.risk`).
    pub id: String,
    /// Domain id (`assessed`).
    pub domain: String,
    /// Human-readable label.
    pub label: String,
    /// Note-level score: the highest score of any segment, in `[0, 1]` (0 for a note with no segment).
    pub score: f32,
    /// Whether the code is suggested: some segment's score reaches the code's threshold in the codebook (so
    /// `score >= threshold`, and `evidence` is not empty).
    pub suggested: bool,
    /// The segments whose own score reaches the threshold, in text order.
    pub evidence: Vec<Evidence>,
}

/// Suggestions for a note: one entry per codebook code, in codebook order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestions {
    /// Per-code results, in the order of the codebook.
    pub codes: Vec<CodeSuggestion>,
    /// How the note was read: segments and model windows.
    pub coverage: Coverage,
}

/// How much of a note the model read, so that a long unit is never cut short silently.
///
/// A segment longer than the model's `max_tokens` (config.json) is not truncated: its tokens are split into
/// windows of at most `max_tokens` that overlap by `window_overlap` tokens, every token is in at least one
/// window, and the segment's score for a code is the highest score of its windows. Serialized in camelCase
/// for JS (`windowedSegments`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// Segments (coding units) in the note.
    pub segments: usize,
    /// Model windows behind the scores, over all segments (cached segments count too): at least one per
    /// segment that has a token.
    pub windows: usize,
    /// Segments that needed more than one window (longer than `max_tokens`).
    pub windowed_segments: usize,
    /// Windows of the longest segment (0 for a note with no segment).
    pub max_windows_per_segment: usize,
}

/// A segment with its score for every code.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredSegment {
    /// Where it is in the note, in UTF-8 bytes.
    pub span: Span,
    /// `[codes]` scores in `[0, 1]`, codebook order: per code, the highest score of the segment's windows.
    pub scores: Arc<[f32]>,
    /// Model windows the segment's tokens were split into (0 when it has no token, more than 1 when it is
    /// longer than `max_tokens`; see [`Coverage`]).
    pub windows: usize,
}

/// Cached result for one segment text.
#[derive(Debug, Clone)]
struct Scored {
    scores: Arc<[f32]>,
    windows: usize,
}

/// A loaded model with its codebook and tokenizer, and a cache of segment scores.
///
/// Typing changes one segment at a time: [`NoteCoder::suggest`] scores only segments whose text it has not
/// scored on the previous call, and forgets segments that left the note, so the cache holds at most one note.
#[derive(Debug)]
pub struct NoteCoder {
    config: ModelConfig,
    codebook: Codebook,
    encoder: TextEncoder,
    model: Model,
    cache: HashMap<String, Scored>,
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl NoteCoder {
    /// Loads a model folder's files and checks that they fit together.
    ///
    /// Errors: [`Error::Config`], [`Error::Codebook`], [`Error::Tokenizer`] or [`Error::Model`] for a file
    /// that is malformed or a model whose embedding table is smaller than `vocab_size`, and [`Error::CodeCountMismatch`] when the model's output count differs from the
    /// number of codes.
    pub fn from_bytes(files: ModelFiles<'_>) -> Result<Self> {
        let config = ModelConfig::from_json(files.config)?;
        let codebook = Codebook::from_json(files.codebook)?;
        let encoder = TextEncoder::from_json(files.tokenizer, &config)?;
        let model = Model::from_onnx(files.model)?;
        if let Some(rows) = model.table_rows().filter(|&r| r < config.vocab_size) {
            return Err(Error::Model(format!(
                "its embedding table has {rows} rows but config.json's vocab_size is {}: token ids from {rows} on \
                 would fall outside it",
                config.vocab_size
            )));
        }
        if model.outputs() != codebook.len() {
            return Err(Error::CodeCountMismatch {
                model: model.outputs(),
                codebook: codebook.len(),
            });
        }
        Ok(NoteCoder {
            config,
            codebook,
            encoder,
            model,
            cache: HashMap::new(),
        })
    }

    /// The codebook, in the order of the scores.
    pub fn codebook(&self) -> &Codebook {
        &self.codebook
    }

    /// The model's preprocessing settings.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Runs the model alone on token ids, without segmenting or tokenizing: the low-level call behind parity
    /// checks and the runtime benchmark. `input_ids` and `attention_mask` are `[batch, seq] i64`, row-major and
    /// flattened (`batch * seq` values each); returns the logits `[batch, codes] f32`, flattened (scores are
    /// their sigmoid).
    ///
    /// Errors: [`Error::Input`] when a length is not `batch * seq`, `batch` or `seq` is 0, an id is outside
    /// `0..vocab_size`, a mask value is not 0 or 1, or a row has no 1 in its mask (the mean over no token is
    /// undefined); [`Error::Model`] when tract fails.
    pub fn logits(
        &self,
        input_ids: &[i64],
        attention_mask: &[i64],
        batch: usize,
        seq: usize,
    ) -> Result<Vec<f32>> {
        let want = batch.checked_mul(seq).filter(|&n| n > 0).ok_or_else(|| {
            Error::Input(format!("batch ({batch}) and seq ({seq}) must be positive"))
        })?;
        if input_ids.len() != want || attention_mask.len() != want {
            return Err(Error::Input(format!(
                "input_ids has {} values and attention_mask {}, expected batch * seq = {want}",
                input_ids.len(),
                attention_mask.len()
            )));
        }
        let vocab = self.config.vocab_size as i64;
        if let Some((i, id)) = input_ids
            .iter()
            .enumerate()
            .find(|(_, &id)| !(0..vocab).contains(&id))
        {
            return Err(Error::Input(format!(
                "input_ids[{i}] = {id} is outside 0..{vocab}"
            )));
        }
        if let Some((i, m)) = attention_mask
            .iter()
            .enumerate()
            .find(|(_, &m)| m != 0 && m != 1)
        {
            return Err(Error::Input(format!(
                "attention_mask[{i}] = {m}, expected 0 or 1"
            )));
        }
        if let Some(row) = attention_mask.chunks(seq).position(|r| !r.contains(&1)) {
            return Err(Error::Input(format!(
                "row {row} of attention_mask has no 1"
            )));
        }
        self.model
            .run(input_ids.to_vec(), attention_mask.to_vec(), batch, seq)
    }

    /// Scores each text as one segment, without the cache: `[texts][codes]` scores in `[0, 1]`.
    /// A text with no token gets all zeros.
    pub fn score_texts(&self, texts: &[&str]) -> Result<Vec<Arc<[f32]>>> {
        Ok(self.score(texts)?.into_iter().map(|s| s.scores).collect())
    }

    /// [`NoteCoder::score_texts`] with the window count of each text.
    fn score(&self, texts: &[&str]) -> Result<Vec<Scored>> {
        let n = self.codebook.len();
        let mut windows = Vec::new();
        let mut owner = Vec::new();
        for (i, t) in texts.iter().enumerate() {
            for w in self.encoder.windows(t)? {
                windows.push(w);
                owner.push(i);
            }
        }
        let mut scores = vec![vec![0.0f32; n]; texts.len()];
        for (chunk_idx, chunk) in windows.chunks(BATCH).enumerate() {
            let logits = self.model.logits(chunk)?;
            for (j, row) in logits.iter().enumerate() {
                let s = &mut scores[owner[chunk_idx * BATCH + j]];
                for (k, &l) in row.iter().enumerate() {
                    let p = sigmoid(l);
                    // NaN never wins a max; a NaN logit (a broken model) leaves 0.
                    if p > s[k] {
                        s[k] = p;
                    }
                }
            }
        }
        let mut counts = vec![0usize; texts.len()];
        for &i in &owner {
            counts[i] += 1;
        }
        Ok(scores
            .into_iter()
            .zip(counts)
            .map(|(s, windows)| Scored {
                scores: Arc::from(s),
                windows,
            })
            .collect())
    }

    /// Segments `text` and scores every segment, reusing the scores of segments already seen on the previous
    /// call; returns the segments in text order. The cache keeps only this note's segments afterwards.
    pub fn score_note(&mut self, text: &str) -> Result<Vec<ScoredSegment>> {
        let spans = segment(text);
        let missing: Vec<&str> = {
            let mut seen = std::collections::HashSet::new();
            spans
                .iter()
                .map(|s| &text[s.start..s.end])
                .filter(|t| !self.cache.contains_key(*t) && seen.insert(*t))
                .collect()
        };
        let fresh = self.score(&missing)?;
        let mut cache = HashMap::with_capacity(spans.len());
        for (t, s) in missing.into_iter().zip(fresh) {
            cache.insert(t.to_owned(), s);
        }
        let mut out = Vec::with_capacity(spans.len());
        for span in spans {
            let t = &text[span.start..span.end];
            let scored = match cache.get(t) {
                Some(s) => s.clone(),
                None => {
                    let s = self
                        .cache
                        .get(t)
                        .cloned()
                        .expect("every segment is either fresh or cached");
                    cache.insert(t.to_owned(), s.clone());
                    s
                }
            };
            out.push(ScoredSegment {
                span,
                scores: scored.scores,
                windows: scored.windows,
            });
        }
        self.cache = cache;
        Ok(out)
    }

    /// Suggests codes for a note. Offsets in the result are UTF-8 byte offsets into `text`; convert them with
    /// [`crate::offsets::convert`] for JS (UTF-16) or Python (scalar values).
    pub fn suggest(&mut self, text: &str) -> Result<Suggestions> {
        let segments = self.score_note(text)?;
        Ok(self.summarize(&segments))
    }

    /// Turns scored segments into per-code suggestions with the codebook's thresholds.
    pub fn summarize(&self, segments: &[ScoredSegment]) -> Suggestions {
        let codes = self
            .codebook
            .codes
            .iter()
            .enumerate()
            .map(|(k, code)| {
                let score = segments.iter().map(|s| s.scores[k]).fold(0.0f32, f32::max);
                let evidence: Vec<Evidence> = segments
                    .iter()
                    .filter(|s| s.scores[k] >= code.threshold)
                    .map(|s| Evidence {
                        start: s.span.start,
                        end: s.span.end,
                        score: s.scores[k],
                    })
                    .collect();
                CodeSuggestion {
                    id: code.id.clone(),
                    domain: code.domain.clone(),
                    label: code.label.clone(),
                    score,
                    // Not `score >= threshold`: with a threshold of 0, a note with no segment would be
                    // suggested every code with no evidence to show.
                    suggested: !evidence.is_empty(),
                    evidence,
                }
            })
            .collect();
        let coverage = Coverage {
            segments: segments.len(),
            windows: segments.iter().map(|s| s.windows).sum(),
            windowed_segments: segments.iter().filter(|s| s.windows > 1).count(),
            max_windows_per_segment: segments.iter().map(|s| s.windows).max().unwrap_or(0),
        };
        Suggestions { codes, coverage }
    }
}
