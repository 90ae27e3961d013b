//! The codebook: the codes the model scores, in the order of its output, with their domains and thresholds.
//!
//! It is read from `codebook.json` in the model folder; nothing in the code names a code, a label or a
//! threshold. The ten codes of the co-response framework are specified in `docs/framework.md`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One domain: a parent of codes, such as `interacted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    /// Short identifier, the prefix of its codes' ids (`interacted`).
    pub id: String,
    /// Human-readable name (`Interacted with`).
    pub label: String,
    /// What the domain records.
    #[serde(default)]
    pub description: String,
}

/// One code of the codebook, at the position of its logit in the model's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Code {
    /// `domain.code`, e.g. `assessed.risk`.
    pub id: String,
    /// Id of the [`Domain`] it belongs to; must equal the part of `id` before the first `.`.
    pub domain: String,
    /// Human-readable name (`Indicators of risk`).
    pub label: String,
    /// What the code means.
    #[serde(default)]
    pub definition: String,
    /// When to apply it.
    #[serde(default)]
    pub use_when: String,
    /// When not to apply it.
    #[serde(default)]
    pub do_not_use_when: String,
    /// Display colour, `#rrggbb`.
    #[serde(default = "default_colour")]
    pub colour: String,
    /// A segment carries the code when its score (sigmoid of the logit, in `[0, 1]`) is `>= threshold`.
    /// Chosen per code on the dev split by the training pipeline.
    pub threshold: f32,
}

fn default_colour() -> String {
    "#888888".into()
}

/// The parsed and validated `codebook.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Codebook {
    /// Name of the codebook (`co-response framework`).
    pub name: String,
    /// Version string of the codebook.
    #[serde(default)]
    pub version: String,
    /// Domains, in display order.
    pub domains: Vec<Domain>,
    /// Codes, in the order of the model's logits.
    pub codes: Vec<Code>,
}

impl Codebook {
    /// Parses `codebook.json` bytes (UTF-8 JSON) and validates them.
    ///
    /// Errors with [`Error::Codebook`] when the JSON is malformed, there are no codes, an id repeats, a code's
    /// domain is unknown or does not prefix its id, a threshold is outside `[0, 1]`, or a colour is not `#rrggbb`.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let book: Codebook = serde_json::from_slice(bytes)
            .map_err(|e| Error::Codebook(format!("not a valid codebook.json: {e}")))?;
        book.validate()?;
        Ok(book)
    }

    fn validate(&self) -> Result<()> {
        if self.codes.is_empty() {
            return Err(Error::Codebook("it lists no codes".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for d in &self.domains {
            if !seen.insert(d.id.as_str()) {
                return Err(Error::Codebook(format!(
                    "domain id {:?} appears twice",
                    d.id
                )));
            }
        }
        let mut seen_codes = std::collections::HashSet::new();
        for c in &self.codes {
            if !seen_codes.insert(c.id.as_str()) {
                return Err(Error::Codebook(format!("code id {:?} appears twice", c.id)));
            }
            if !self.domains.iter().any(|d| d.id == c.domain) {
                return Err(Error::Codebook(format!(
                    "code {:?} names unknown domain {:?}",
                    c.id, c.domain
                )));
            }
            if c.id.split('.').next() != Some(c.domain.as_str()) || !c.id.contains('.') {
                return Err(Error::Codebook(format!(
                    "code id {:?} must start with its domain {:?} and a '.'",
                    c.id, c.domain
                )));
            }
            if !(0.0..=1.0).contains(&c.threshold) {
                return Err(Error::Codebook(format!(
                    "code {:?} has threshold {} outside [0, 1]",
                    c.id, c.threshold
                )));
            }
            let hex = c.colour.strip_prefix('#').unwrap_or("");
            if hex.len() != 6 || !hex.chars().all(|ch| ch.is_ascii_hexdigit()) {
                return Err(Error::Codebook(format!(
                    "code {:?} has colour {:?}, expected #rrggbb",
                    c.id, c.colour
                )));
            }
        }
        Ok(())
    }

    /// Number of codes, which is the number of logits the model must output per segment.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Always false for a validated codebook (it has at least one code).
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Position of the code with this id in the model's output, if any.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.codes.iter().position(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(codes: &str) -> String {
        format!(r#"{{"name":"t","domains":[{{"id":"a","label":"A"}}],"codes":[{codes}]}}"#)
    }

    #[test]
    fn accepts_a_valid_codebook() {
        let b = Codebook::from_json(
            book(r##"{"id":"a.x","domain":"a","label":"X","threshold":0.5,"colour":"#00aaFF"}"##)
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(b.index_of("a.x"), Some(0));
    }

    #[test]
    fn rejects_bad_codebooks_with_a_precise_message() {
        let cases = [
            ("", "not a valid codebook.json"),
            (r#"{"name":"t","domains":[],"codes":[]}"#, "no codes"),
        ];
        for (json, want) in cases {
            let e = Codebook::from_json(json.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{e}");
        }
        let cases = [
            (
                r#"{"id":"a.x","domain":"a","label":"X","threshold":1.5}"#,
                "outside [0, 1]",
            ),
            (
                r#"{"id":"a.x","domain":"b","label":"X","threshold":0.5}"#,
                "unknown domain",
            ),
            (
                r#"{"id":"x","domain":"a","label":"X","threshold":0.5}"#,
                "must start with its domain",
            ),
            (
                r#"{"id":"a.x","domain":"a","label":"X","threshold":0.5},{"id":"a.x","domain":"a","label":"Y","threshold":0.5}"#,
                "appears twice",
            ),
            (
                r#"{"id":"a.x","domain":"a","label":"X","threshold":0.5,"colour":"red"}"#,
                "#rrggbb",
            ),
        ];
        for (codes, want) in cases {
            let e = Codebook::from_json(book(codes).as_bytes())
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{e}");
        }
    }
}
