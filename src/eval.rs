//! Precision, recall and F1 of suggestions against labeled notes (the JSONL form of `docs/framework.md`).
//!
//! Two levels: **note** (does the note carry the code? the full pipeline, our segmenter included) and
//! **segment** (does each gold segment carry the code? the classifier scored on the gold segments' text, so
//! segmentation differences do not count). Micro averages pool every decision; macro averages the per-code F1.
//! Calibration is the expected calibration error of the scores over 10 equal-width bins.

use serde::{Deserialize, Serialize};

/// A labeled segment: offsets in Unicode scalar values (Python `str` indices), end exclusive.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct GoldSegment {
    /// First scalar value of the segment.
    pub start: usize,
    /// One past its last scalar value.
    pub end: usize,
    /// Codes the segment carries (may be empty).
    pub codes: Vec<String>,
}

/// A labeled note.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct GoldNote {
    /// Note id.
    pub id: String,
    /// Note text.
    pub text: String,
    /// Its segments with their codes.
    pub segments: Vec<GoldSegment>,
    /// Codes of the note: the union of its segments' codes.
    pub codes: Vec<String>,
}

/// True/false positive and false negative counts for one code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Predicted and gold.
    pub tp: usize,
    /// Predicted, not gold.
    pub fp: usize,
    /// Gold, not predicted.
    pub fn_: usize,
}

impl Counts {
    /// Adds one decision.
    pub fn add(&mut self, predicted: bool, gold: bool) {
        match (predicted, gold) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => {}
        }
    }
    /// `tp / (tp + fp)`, 0 when nothing was predicted.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    /// `tp / (tp + fn)`, 0 when nothing is gold.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Reliability bins of one code: 10 equal-width score bins, each with its count, summed score and number of
/// gold positives.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Calibration {
    bins: [(usize, f64, usize); 10],
}

impl Calibration {
    /// Adds one scored decision (`score` in `[0, 1]`).
    pub fn add(&mut self, score: f32, gold: bool) {
        let b = ((score.clamp(0.0, 1.0) * 10.0) as usize).min(9);
        let bin = &mut self.bins[b];
        bin.0 += 1;
        bin.1 += f64::from(score);
        bin.2 += usize::from(gold);
    }
    /// Expected calibration error: the count-weighted mean over bins of |mean score - positive rate|
    /// (0 is perfectly calibrated; 0 when nothing was added).
    pub fn ece(&self) -> f64 {
        let n: usize = self.bins.iter().map(|b| b.0).sum();
        if n == 0 {
            return 0.0;
        }
        self.bins
            .iter()
            .filter(|b| b.0 > 0)
            .map(|&(c, s, p)| (s / c as f64 - p as f64 / c as f64).abs() * c as f64)
            .sum::<f64>()
            / n as f64
    }
}

/// One row of a report.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Code id, or `micro` / `macro`.
    pub code: String,
    /// Precision in `[0, 1]`.
    pub precision: f64,
    /// Recall in `[0, 1]`.
    pub recall: f64,
    /// F1 in `[0, 1]`.
    pub f1: f64,
    /// Number of gold positives.
    pub support: usize,
    /// Expected calibration error of the scores (10 bins); for `micro`/`macro`, the mean over codes.
    pub ece: f64,
}

/// Per-code rows followed by `micro` and `macro` rows.
pub fn rows(codes: &[String], counts: &[Counts], calibration: &[Calibration]) -> Vec<Row> {
    let mean_ece =
        calibration.iter().map(Calibration::ece).sum::<f64>() / calibration.len().max(1) as f64;
    let mut out: Vec<Row> = codes
        .iter()
        .zip(counts)
        .zip(calibration)
        .map(|((c, k), cal)| Row {
            code: c.clone(),
            precision: k.precision(),
            recall: k.recall(),
            f1: k.f1(),
            support: k.tp + k.fn_,
            ece: cal.ece(),
        })
        .collect();
    let total = counts.iter().fold(Counts::default(), |a, k| Counts {
        tp: a.tp + k.tp,
        fp: a.fp + k.fp,
        fn_: a.fn_ + k.fn_,
    });
    out.push(Row {
        code: "micro".into(),
        precision: total.precision(),
        recall: total.recall(),
        f1: total.f1(),
        support: total.tp + total.fn_,
        ece: mean_ece,
    });
    let n = counts.len().max(1) as f64;
    out.push(Row {
        code: "macro".into(),
        precision: counts.iter().map(Counts::precision).sum::<f64>() / n,
        recall: counts.iter().map(Counts::recall).sum::<f64>() / n,
        f1: counts.iter().map(Counts::f1).sum::<f64>() / n,
        support: total.tp + total.fn_,
        ece: mean_ece,
    });
    out
}

/// Which codes a code is confused with, at segment level: for each code, what its false positives carry in
/// the gold labels and what was predicted for its misses.
#[derive(Debug, Clone, Default)]
pub struct Confusion {
    /// `[codes][codes + 1]`: for false positives of code A, how often gold code B was on the segment; the last
    /// column counts false positives whose segment has no gold code at all.
    fp_gold: Vec<Vec<usize>>,
    /// `[codes][codes + 1]`: for misses of code A, how often code B was predicted on the segment; the last
    /// column counts misses where nothing was predicted.
    fn_pred: Vec<Vec<usize>>,
    fp: Vec<usize>,
    misses: Vec<usize>,
}

/// One code's line of a [`Confusion`] summary: counts, then the other codes (or `"none"` / `"nothing"`)
/// with how often, most frequent first, ties in codebook order.
#[derive(Debug, Clone, Serialize)]
pub struct ConfusionRow {
    /// The code.
    pub code: String,
    /// Segments predicted with the code whose gold labels lack it.
    pub false_positives: usize,
    /// What the gold labels of those segments hold instead.
    pub false_positives_gold: Vec<(String, usize)>,
    /// Segments whose gold labels hold the code but that were not predicted with it.
    pub misses: usize,
    /// What was predicted on those segments instead.
    pub misses_predicted: Vec<(String, usize)>,
}

impl Confusion {
    /// An empty summary for `codes` codes.
    pub fn new(codes: usize) -> Self {
        Confusion {
            fp_gold: vec![vec![0; codes + 1]; codes],
            fn_pred: vec![vec![0; codes + 1]; codes],
            fp: vec![0; codes],
            misses: vec![0; codes],
        }
    }

    /// Adds one segment: `predicted[k]` and `gold[k]` for each code `k` (same length as `new`'s `codes`).
    pub fn add(&mut self, predicted: &[bool], gold: &[bool]) {
        let n = self.fp.len();
        for a in 0..n {
            if predicted[a] && !gold[a] {
                self.fp[a] += 1;
                let others: Vec<usize> = (0..n).filter(|&b| gold[b]).collect();
                if others.is_empty() {
                    self.fp_gold[a][n] += 1;
                }
                for b in others {
                    self.fp_gold[a][b] += 1;
                }
            }
            if gold[a] && !predicted[a] {
                self.misses[a] += 1;
                let others: Vec<usize> = (0..n).filter(|&b| predicted[b]).collect();
                if others.is_empty() {
                    self.fn_pred[a][n] += 1;
                }
                for b in others {
                    self.fn_pred[a][b] += 1;
                }
            }
        }
    }

    /// One row per code, each list cut to its `top` most frequent entries.
    pub fn rows(&self, codes: &[String], top: usize) -> Vec<ConfusionRow> {
        let ranked = |counts: &[usize], empty: &str| {
            let mut v: Vec<(String, usize)> = counts
                .iter()
                .enumerate()
                .filter(|(_, &c)| c > 0)
                .map(|(b, &c)| {
                    (
                        codes.get(b).cloned().unwrap_or_else(|| empty.to_string()),
                        c,
                    )
                })
                .collect();
            v.sort_by(|x, y| y.1.cmp(&x.1));
            v.truncate(top);
            v
        };
        codes
            .iter()
            .enumerate()
            .map(|(a, c)| ConfusionRow {
                code: c.clone(),
                false_positives: self.fp[a],
                false_positives_gold: ranked(&self.fp_gold[a], "none"),
                misses: self.misses[a],
                misses_predicted: ranked(&self.fn_pred[a], "nothing"),
            })
            .collect()
    }
}

/// Formats a confusion summary as text, one code per line.
pub fn confusion_table(rows: &[ConfusionRow]) -> String {
    let list = |v: &[(String, usize)]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let mut s = String::from("confusions (segment level): false positives and what their gold holds; misses and what was predicted\n");
    for r in rows {
        s += &format!(
            "{:<24} FP {:>4}: {}\n{:<24} FN {:>4}: {}\n",
            r.code,
            r.false_positives,
            list(&r.false_positives_gold),
            "",
            r.misses,
            list(&r.misses_predicted)
        );
    }
    s
}

/// Formats rows as an aligned text table.
pub fn table(title: &str, rows: &[Row]) -> String {
    let mut s = format!(
        "{title}\n{:<24} {:>9} {:>6} {:>6} {:>7} {:>6}\n",
        "code", "precision", "recall", "F1", "support", "ECE"
    );
    for r in rows {
        s += &format!(
            "{:<24} {:>9.3} {:>6.3} {:>6.3} {:>7} {:>6.3}\n",
            r.code, r.precision, r.recall, r.f1, r.support, r.ece
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_confusion() {
        let codes = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let mut k = Confusion::new(3);
        k.add(&[true, false, false], &[false, true, false]); // a predicted on a b segment: FP of a (gold b), miss of b (pred a)
        k.add(&[true, false, false], &[false, false, false]); // FP of a on an uncoded segment
        k.add(&[false, false, false], &[false, false, true]); // miss of c, nothing predicted
        k.add(&[true, true, false], &[true, true, false]); // all right
        let r = k.rows(&codes, 3);
        assert_eq!(r[0].false_positives, 2);
        assert_eq!(
            r[0].false_positives_gold,
            vec![("b".to_string(), 1), ("none".to_string(), 1)]
        );
        assert_eq!(r[1].misses, 1);
        assert_eq!(r[1].misses_predicted, vec![("a".to_string(), 1)]);
        assert_eq!(r[2].misses_predicted, vec![("nothing".to_string(), 1)]);
        assert_eq!((r[2].false_positives, r[0].misses), (0, 0));
    }

    #[test]
    fn hand_computed_metrics() {
        // 3 tp, 1 fp, 2 fn: P = 3/4, R = 3/5, F1 = 6/9.
        let mut k = Counts::default();
        for (p, g) in [
            (true, true),
            (true, true),
            (true, true),
            (true, false),
            (false, true),
            (false, true),
            (false, false),
        ] {
            k.add(p, g);
        }
        assert_eq!(
            k,
            Counts {
                tp: 3,
                fp: 1,
                fn_: 2
            }
        );
        assert!((k.precision() - 0.75).abs() < 1e-12);
        assert!((k.recall() - 0.6).abs() < 1e-12);
        assert!((k.f1() - 6.0 / 9.0).abs() < 1e-12);
        let r = rows(
            &["a".into(), "b".into()],
            &[
                k,
                Counts {
                    tp: 1,
                    fp: 0,
                    fn_: 0,
                },
            ],
            &[Calibration::default(); 2],
        );
        assert_eq!(r[2].code, "micro");
        assert!((r[2].f1 - 8.0 / 11.0).abs() < 1e-12);
        assert!((r[3].f1 - (6.0 / 9.0 + 1.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn hand_computed_ece() {
        // Bin 9: scores 0.9 and 0.95, one positive: |0.925 - 0.5| = 0.425, weight 2/4.
        // Bin 1: scores 0.1 and 0.1, no positive: |0.1 - 0| = 0.1, weight 2/4.  ECE = 0.2625.
        let mut c = Calibration::default();
        for (s, g) in [(0.9, true), (0.95, false), (0.1, false), (0.1, false)] {
            c.add(s, g);
        }
        assert!((c.ece() - 0.2625).abs() < 1e-6, "{}", c.ece());
        assert_eq!(Calibration::default().ece(), 0.0);
    }
}
