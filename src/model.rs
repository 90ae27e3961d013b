//! The ONNX classifier, run by tract.
//!
//! Contract of a notecoder model (written by `training/train.py`, checked at load):
//! - inputs `input_ids: [batch, seq] i64` (token ids, `< vocab_size`) and `attention_mask: [batch, seq] i64`
//!   (1 for a real token, 0 for padding), with `batch` and `seq` symbolic;
//! - one output `logits: [batch, codes] f32`, one logit per codebook code, in codebook order. Scores are
//!   `sigmoid(logit)` (multi-label: each code is scored independently).

use std::io::Cursor;

use tract_onnx::prelude::*;

use crate::error::{Error, Result};

type Plan = Arc<TypedRunnableModel>;

/// A loaded, optimized model ready to run.
#[derive(Debug)]
pub struct Model {
    plan: Plan,
    outputs: usize,
    table_rows: Option<usize>,
}

impl From<TractError> for Error {
    fn from(e: TractError) -> Self {
        // `{:#}` keeps tract's chain of causes on one line.
        Error::Model(format!("{e:#}"))
    }
}

/// Runs a tract call, turning a panic inside tract into [`Error::Model`] (native builds unwind; the browser
/// build aborts, and the worker reports the trap as a `ModelCrashError`). The `model_files` fuzz target found
/// malformed ONNX files that make tract's analysis panic (e.g. a Reduce axis outside its input's rank) instead
/// of returning an error. Nothing is left half-built: loading builds a new plan, and a run uses fresh state.
/// tract's messages name ops, shapes and axes, never inputs, so no note text reaches the error.
fn contained<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(Error::Model(format!("tract failed to {what} it: {msg}")))
    })
}

/// The smallest gathered extent over the model's Gather nodes whose data is a constant.
fn table_rows(model: &TypedModel) -> Result<Option<usize>> {
    let mut rows: Option<usize> = None;
    for node in model.nodes() {
        if let Some(g) = node.op_as::<tract_onnx::tract_core::ops::array::Gather>() {
            let data = model.outlet_fact(node.inputs[0])?;
            if let Some(k) = &data.konst {
                let n = k.shape().get(g.axis).copied().unwrap_or(0);
                rows = Some(rows.map_or(n, |r| r.min(n)));
            }
        }
    }
    Ok(rows)
}

impl Model {
    /// Loads an ONNX model from its bytes.
    ///
    /// Errors with [`Error::Model`] when the bytes are empty, look like an HTML or JSON page rather than ONNX,
    /// are not a readable ONNX protobuf, do not have exactly the inputs `input_ids` and `attention_mask`, or
    /// do not produce a `[batch, codes]` output.
    pub fn from_onnx(bytes: &[u8]) -> Result<Self> {
        contained("load", || Self::load(bytes))
    }

    fn load(bytes: &[u8]) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::Model("the model file is empty (0 bytes)".into()));
        }
        let head = bytes
            .iter()
            .copied()
            .skip_while(u8::is_ascii_whitespace)
            .next();
        if matches!(head, Some(b'<') | Some(b'{')) {
            return Err(Error::Model(format!(
                "the model file ({} bytes) starts like an HTML or JSON document, not ONNX: was an error page served in its place?",
                bytes.len()
            )));
        }
        let mut model = tract_onnx::onnx()
            .model_for_read(&mut Cursor::new(bytes))
            .map_err(|e| {
                Error::Model(format!(
                    "not a readable ONNX model ({} bytes): {e:#}",
                    bytes.len()
                ))
            })?;
        let names: Vec<String> = model
            .input_outlets()?
            .iter()
            .map(|o| model.node(o.node).name.clone())
            .collect();
        if names != ["input_ids", "attention_mask"] {
            return Err(Error::Model(format!(
                "inputs are {names:?}, expected [\"input_ids\", \"attention_mask\"]"
            )));
        }
        if model.output_outlets()?.len() != 1 {
            return Err(Error::Model(format!(
                "it has {} outputs, expected 1 (logits)",
                model.output_outlets()?.len()
            )));
        }
        let batch = model.symbols.sym("batch");
        let seq = model.symbols.sym("seq");
        for i in 0..2 {
            model = model.with_input_fact(i, i64::fact([batch.to_dim(), seq.to_dim()]).into())?;
        }
        let typed = model.into_typed()?.into_decluttered()?;
        let table_rows = table_rows(&typed)?;
        let typed = typed.into_optimized()?;
        let out = typed.output_fact(0)?.clone();
        let shape = out.shape.to_tvec();
        if out.datum_type != f32::datum_type() || shape.len() != 2 {
            return Err(Error::Model(format!(
                "output is {out:?}, expected [batch, codes] f32"
            )));
        }
        let outputs = shape[1]
            .as_i64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                Error::Model(format!(
                    "output has no fixed number of codes ({})",
                    shape[1]
                ))
            })?;
        let plan = typed.into_runnable()?;
        Ok(Model {
            plan,
            outputs,
            table_rows,
        })
    }

    /// Number of logits per segment (the last dimension of the output).
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Entries of the smallest constant table the model gathers from (along the gathered axis), or `None`
    /// when it gathers from no constant. Token ids index such a table, so `config.json`'s `vocab_size` must
    /// not exceed it: tract does not bounds-check a Gather, and an id past the table reads a neighbouring
    /// row or panics (found by the `model_files` fuzz target).
    pub fn table_rows(&self) -> Option<usize> {
        self.table_rows
    }

    /// Runs the model on a batch of token windows, padding them to the longest; returns `[batch][codes]` logits.
    /// Each window must be non-empty and hold ids below the model's vocabulary size (the caller checks).
    pub fn logits(&self, windows: &[Vec<i64>]) -> Result<Vec<Vec<f32>>> {
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let seq = windows.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = vec![0i64; windows.len() * seq];
        let mut mask = vec![0i64; windows.len() * seq];
        for (row, w) in windows.iter().enumerate() {
            ids[row * seq..row * seq + w.len()].copy_from_slice(w);
            mask[row * seq..row * seq + w.len()].fill(1);
        }
        let flat = self.run(ids, mask, windows.len(), seq)?;
        Ok(flat.chunks(self.outputs).map(<[f32]>::to_vec).collect())
    }

    /// Runs the model on row-major `input_ids` and `attention_mask`, both `[batch, seq] i64` flattened
    /// (`batch * seq` values each); returns the logits `[batch, codes] f32` flattened. The caller has checked
    /// the lengths, the ids and that every row has a 1 in its mask.
    pub(crate) fn run(
        &self,
        ids: Vec<i64>,
        mask: Vec<i64>,
        batch: usize,
        seq: usize,
    ) -> Result<Vec<f32>> {
        contained("run", || self.run_unguarded(ids, mask, batch, seq))
    }

    fn run_unguarded(
        &self,
        ids: Vec<i64>,
        mask: Vec<i64>,
        batch: usize,
        seq: usize,
    ) -> Result<Vec<f32>> {
        let ids = tract_ndarray::Array2::from_shape_vec((batch, seq), ids)
            .map_err(|e| Error::Model(format!("input_ids: {e}")))?;
        let mask = tract_ndarray::Array2::from_shape_vec((batch, seq), mask)
            .map_err(|e| Error::Model(format!("attention_mask: {e}")))?;
        let out = self
            .plan
            .run(tvec!(ids.into_tensor().into(), mask.into_tensor().into()))?;
        let view = out[0].to_plain_array_view::<f32>()?;
        let got = view.shape().to_vec();
        if got != [batch, self.outputs] {
            return Err(Error::Model(format!(
                "output shape {got:?}, expected [{batch}, {}]",
                self.outputs
            )));
        }
        Ok(view.iter().copied().collect())
    }
}
