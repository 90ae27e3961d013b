//! `notecoder`: code clinician notes from the command line with a model folder.
//!
//! ```text
//! notecoder classify [FILE|-] [--model DIR] [--jobs N]  JSONL {"id","text"} in, one JSONL result per line out
//! notecoder segment [FILE|-]                   JSONL {"id","text"} in, {"id","segments"} out
//! notecoder eval --gold FILE [--model DIR] [--json]
//! notecoder code INPUT [--csv OUT.csv] [--jsonl OUT.jsonl]   a folder of .txt, a CSV or JSONL -> coded segments
//! notecoder export-codebook --format qdc [--out FILE]        the model's codebook as REFI-QDA XML
//! notecoder import-codebook FILE.qdc [--out codebook.json]   a REFI-QDA codebook as notecoder's codebook.json
//! ```
//! Offsets in output are Unicode scalar values (Python `str` indices). Exit status: 0 when every line was
//! coded, 1 when some line was reported as an error (the run goes on), 2 when the run could not start.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use notecoder::eval::{
    confusion_table, rows, table, Calibration, Confusion, ConfusionRow, Counts, GoldNote, Row,
};
use notecoder::offsets::convert;
use notecoder::{ModelFiles, NoteCoder, OffsetUnit};
use serde::Serialize;
use serde_json::{json, Value};

/// The model shipped with this repository.
const SHIPPED_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/coresponse-v1");

#[derive(Parser)]
#[command(
    name = "notecoder",
    version,
    about = "Suggest co-response framework codes for clinician notes, offline"
)]
struct Cli {
    /// Model folder (config.json, codebook.json, tokenizer.json, model.onnx); default: $NOTECODER_MODEL, else
    /// the models/coresponse-v1 folder of the source tree this binary was built from.
    #[arg(long, global = true, env = "NOTECODER_MODEL", default_value = SHIPPED_MODEL)]
    model: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read JSONL notes {"id", "text"} and write one JSONL line of codes per note.
    Classify {
        /// Input file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
        /// Threads, each with its own copy of the model (about 10 MB, loaded only once the input has lines for
        /// it), at most 256; 0: one per core. The output is the same, in input order, for any number.
        #[arg(long, short = 'j', default_value_t = 0,
              value_parser = clap::value_parser!(u16).range(0..=256))]
        jobs: u16,
    },
    /// Read JSONL notes {"id", "text"} and write their coding units: {"id", "segments": [{"start", "end"}]}.
    Segment {
        /// Input file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
    /// Code a corpus: every suggested code of every note, one row per coded segment (note_id, start, end,
    /// text, code, score; offsets in Unicode scalars, end exclusive), with a summary on standard error.
    Code {
        /// A folder of `.txt` files (one note each, id = file name without `.txt`), a `.csv` file with a header
        /// row, or a JSONL file of {"id", "text"} (`-`: JSONL on standard input).
        input: PathBuf,
        /// Write the coded segments as CSV here.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Write the coded segments as JSONL here (without --csv, --jsonl or --qdpx: JSONL on standard output).
        #[arg(long)]
        jsonl: Option<PathBuf>,
        /// Write a REFI-QDA project here (.qdpx: the codebook, each note as a text source, each coded segment as
        /// a coded selection; positions in Unicode code points, end exclusive).
        #[arg(long)]
        qdpx: Option<PathBuf>,
        /// Column of a CSV input that holds the note id.
        #[arg(long, default_value = "id")]
        id_column: String,
        /// Column of a CSV input that holds the note text.
        #[arg(long, default_value = "text")]
        text_column: String,
    },
    /// Write the model's codebook in an exchange format (REFI-QDA `qdc`: domains as non-codable parent codes,
    /// codes as codable children, stable GUIDs).
    ExportCodebook {
        /// The format; `qdc` is the REFI-QDA Codebook XML of NVivo, ATLAS.ti, MAXQDA and QualCoder.
        #[arg(long, value_parser = ["qdc"], default_value = "qdc")]
        format: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Read a REFI-QDA codebook (`.qdc`) exported by another tool and write it as notecoder's codebook.json
    /// (top-level codes become domains, codable codes below them become codes; thresholds start at 0.5).
    ImportCodebook {
        /// The `.qdc` file.
        file: PathBuf,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Name of the imported codebook (default: the file name without extension).
        #[arg(long)]
        name: Option<String>,
    },
    /// Read a REFI-QDA project (`.qdpx`) coded in another tool and write its text sources as labeled notes
    /// (the JSONL form of docs/framework.md) for `training/train.py`: each source is split into notecoder's
    /// coding units, and a unit carries a code when a selection with that code covers at least half of the
    /// unit or lies at least half inside it. Positions are Unicode code points, end exclusive.
    ImportProject {
        /// The `.qdpx` file.
        file: PathBuf,
        /// Write the labeled notes here (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Map the project's codes onto this codebook.json (by code id or label, case-insensitive) instead of
        /// converting the project's own codebook; a coded project code it lacks is an error.
        #[arg(long)]
        codebook: Option<PathBuf>,
        /// Write the codebook the notes are labeled with here (the project's, converted; or --codebook's).
        #[arg(long)]
        codebook_out: Option<PathBuf>,
        /// Also write sources that have no coding at all (by default they are left out as not yet coded).
        #[arg(long)]
        keep_uncoded: bool,
        /// Name of the codebook converted from the project (default: the file name without extension).
        #[arg(long)]
        name: Option<String>,
    },
    /// Precision, recall and F1 per code against labeled notes, at note and segment level.
    Eval {
        /// Labeled notes in the JSONL form of docs/framework.md; `-` reads standard input.
        #[arg(long)]
        gold: PathBuf,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// Also write a self-contained HTML report here (per-code bar chart, confusions, worst misses).
        #[arg(long)]
        html: Option<PathBuf>,
    },
}

fn load_model(dir: &Path) -> Result<NoteCoder> {
    let read = |f: &str| {
        let p = dir.join(f);
        std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))
    };
    let (config, codebook, tokenizer, model) = (
        read("config.json")?,
        read("codebook.json")?,
        read("tokenizer.json")?,
        read("model.onnx")?,
    );
    NoteCoder::from_bytes(ModelFiles {
        config: &config,
        codebook: &codebook,
        tokenizer: &tokenizer,
        model: &model,
    })
    .with_context(|| format!("cannot load the model folder {}", dir.display()))
}

fn open_input(file: Option<&Path>) -> Result<Box<dyn BufRead>> {
    Ok(match file {
        None => Box::new(std::io::stdin().lock()),
        Some(p) if p == Path::new("-") => Box::new(std::io::stdin().lock()),
        Some(p) => Box::new(std::io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        )),
    })
}

#[derive(Serialize)]
struct OutCode<'a> {
    id: &'a str,
    score: f32,
    suggested: bool,
    evidence: &'a [notecoder::Evidence],
}

#[derive(Serialize)]
struct OutNote<'a> {
    id: &'a Value,
    codes: Vec<OutCode<'a>>,
    coverage: notecoder::Coverage,
}

#[derive(Serialize)]
struct OutSegments<'a> {
    id: &'a Value,
    segments: Vec<Span>,
}

#[derive(Serialize)]
struct Span {
    start: usize,
    end: usize,
}

#[derive(Serialize)]
struct OutError<'a> {
    id: &'a Value,
    line: usize,
    error: String,
}

/// An input record. `id` may be a JSON string or number and is echoed as given.
#[derive(serde::Deserialize)]
struct InNote {
    id: Value,
    text: String,
}

/// What to do with each note of a JSONL input.
enum Job {
    Classify(NoteCoder),
    Segment,
}

/// Lines read and processed together; with several jobs each takes a contiguous share, and the results are
/// written in input order before the next chunk is read. A chunk also ends once its notes reach
/// [`CHUNK_BYTES`], so memory stays bounded in lines and in bytes on any input.
const CHUNK_LINES: usize = 512;

/// Bytes of note text after which a chunk is processed even if it has fewer than [`CHUNK_LINES`] lines (8 MiB).
const CHUNK_BYTES: usize = 8 << 20;

/// Parses one input line into a note, or says why it is not one. Never quotes the line's text.
fn parse_line(bytes: &[u8], lineno: usize) -> std::result::Result<InNote, (Value, String)> {
    let bytes = if lineno == 1 {
        bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
    } else {
        bytes
    };
    let line = std::str::from_utf8(bytes).map_err(|e| {
        (
            Value::Null,
            format!(
                "not UTF-8 (invalid byte at column {}); re-save the file as UTF-8",
                e.valid_up_to() + 1
            ),
        )
    })?;
    if line.trim().is_empty() {
        return Err((Value::Null, "blank line".into()));
    }
    serde_json::from_str::<InNote>(line).map_err(|e| {
        // The id, when the line has one, goes into the error record; the text never does.
        let id = serde_json::from_str::<Value>(line)
            .ok()
            .and_then(|v| v.get("id").cloned())
            .unwrap_or(Value::Null);
        (id, format!("not a note {{\"id\", \"text\"}}: {e}"))
    })
}

/// Reads `input` line by line (`\n` or `\r\n`; a UTF-8 byte-order mark on line 1 is dropped, and an input of
/// nothing but one is empty) and calls `f` with each line's number (from 1) and the note on it, or why it is
/// not one (never quoting the line's text).
fn for_each_line(
    input: &mut dyn BufRead,
    mut f: impl FnMut(usize, std::result::Result<InNote, (Value, String)>) -> Result<()>,
) -> Result<()> {
    let mut buf = Vec::new();
    let mut lineno = 0;
    loop {
        buf.clear();
        if input
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("reading line {}", lineno + 1))?
            == 0
        {
            return Ok(());
        }
        lineno += 1;
        if lineno == 1 && buf == b"\xEF\xBB\xBF" {
            return Ok(());
        }
        let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        f(lineno, parse_line(bytes, lineno))?;
    }
}

/// One input line's output: the JSONL line (no newline) and, for an error record, the message for standard
/// error (never quoting note text).
struct Processed {
    line: Vec<u8>,
    error: Option<String>,
}

/// Processes one parsed line: a result record, or an error record naming the line and, when known, the id.
fn process(
    job: &mut Job,
    lineno: usize,
    parsed: std::result::Result<InNote, (Value, String)>,
) -> Result<Processed> {
    let error_record = |id: &Value, error: String| -> Result<Processed> {
        let line = serde_json::to_vec(&OutError {
            id,
            line: lineno,
            error: error.clone(),
        })?;
        Ok(Processed {
            line,
            error: Some(format!("line {lineno}: {error}")),
        })
    };
    let record = match parsed {
        Ok(r) => r,
        Err((id, error)) => return error_record(&id, error),
    };
    let line = match job {
        Job::Segment => {
            let spans = notecoder::segment(&record.text);
            let bytes: Vec<usize> = spans.iter().flat_map(|s| [s.start, s.end]).collect();
            let scalars = notecoder::offsets::map_offsets(&record.text, &bytes, OffsetUnit::Scalar);
            let segments = scalars
                .chunks(2)
                .map(|p| Span {
                    start: p[0],
                    end: p[1],
                })
                .collect();
            serde_json::to_vec(&OutSegments {
                id: &record.id,
                segments,
            })?
        }
        Job::Classify(coder) => match coder.suggest(&record.text) {
            Ok(mut s) => {
                convert(&record.text, &mut s, OffsetUnit::Scalar);
                let codes = s
                    .codes
                    .iter()
                    .map(|c| OutCode {
                        id: &c.id,
                        score: c.score,
                        suggested: c.suggested,
                        evidence: &c.evidence,
                    })
                    .collect();
                serde_json::to_vec(&OutNote {
                    id: &record.id,
                    codes,
                    coverage: s.coverage,
                })?
            }
            Err(e) => return error_record(&record.id, e.to_string()),
        },
    };
    Ok(Processed { line, error: None })
}

/// Runs the jobs over every line, writing exactly one output line per input line, in input order (a result or
/// an error record); returns the number of error records. `jobs` starts with one job; with `max_jobs` above 1,
/// each chunk (see [`CHUNK_LINES`]) is split into contiguous shares processed on their own threads, one job
/// each (a [`NoteCoder`] is not shared: its per-unit cache is its own). Further jobs are made by `more` only
/// when a chunk has lines for them, so a short input never loads `max_jobs` models. The output is the same for
/// any number of jobs.
fn for_each_note(
    jobs: &mut Vec<Job>,
    max_jobs: usize,
    more: impl Fn() -> Result<Job>,
    mut input: Box<dyn BufRead>,
    out: &mut impl Write,
) -> Result<usize> {
    let mut errors = 0;
    let mut chunk = Vec::with_capacity(CHUNK_LINES);
    let mut chunk_bytes = 0;
    let mut flush = |chunk: &mut Vec<(usize, std::result::Result<InNote, (Value, String)>)>,
                     out: &mut dyn Write|
     -> Result<()> {
        let items = std::mem::take(chunk);
        let want = max_jobs.min(items.len()).max(1);
        while jobs.len() < want {
            jobs.push(more()?);
        }
        let results: Vec<Result<Processed>> = if want == 1 {
            items
                .into_iter()
                .map(|(n, p)| process(&mut jobs[0], n, p))
                .collect()
        } else {
            let share = items.len().div_ceil(want);
            let mut shares = Vec::new();
            let mut rest = items.into_iter();
            loop {
                let s: Vec<_> = rest.by_ref().take(share).collect();
                if s.is_empty() {
                    break;
                }
                shares.push(s);
            }
            std::thread::scope(|scope| {
                let handles: Vec<_> = shares
                    .into_iter()
                    .zip(jobs.iter_mut())
                    .map(|(s, job)| {
                        scope.spawn(move || {
                            s.into_iter()
                                .map(|(n, p)| process(job, n, p))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("a classify thread panicked"))
                    .collect()
            })
        };
        for r in results {
            let p = r?;
            if let Some(msg) = &p.error {
                eprintln!("notecoder: {msg}");
                errors += 1;
            }
            out.write_all(&p.line)?;
            writeln!(out)?;
        }
        Ok(())
    };
    for_each_line(&mut *input, |lineno, parsed| {
        chunk_bytes += parsed.as_ref().map_or(0, |n| n.text.len());
        chunk.push((lineno, parsed));
        if chunk.len() == CHUNK_LINES || chunk_bytes >= CHUNK_BYTES {
            flush(&mut chunk, &mut *out)?;
            chunk_bytes = 0;
        }
        Ok(())
    })?;
    flush(&mut chunk, &mut *out)?;
    out.flush()?;
    Ok(errors)
}

/// A segment-level error kept for the report: a miss (gold code below threshold) or a false positive.
struct Miss {
    note: String,
    text: String,
    code: String,
    score: f32,
    missed: bool,
}

fn eval(coder: &mut NoteCoder, gold: &Path, json: bool, html: Option<&Path>) -> Result<()> {
    let text = if gold == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
    } else {
        std::fs::read_to_string(gold).with_context(|| format!("cannot read {}", gold.display()))?
    };
    let notes: Vec<GoldNote> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l.trim_start_matches('\u{FEFF}'))
                .with_context(|| format!("{}:{}: not a labeled note", gold.display(), i + 1))
        })
        .collect::<Result<_>>()?;
    anyhow::ensure!(
        !notes.is_empty(),
        "{} holds no labeled note",
        gold.display()
    );
    let codes: Vec<String> = coder
        .codebook()
        .codes
        .iter()
        .map(|c| c.id.clone())
        .collect();
    let thresholds: Vec<f32> = coder.codebook().codes.iter().map(|c| c.threshold).collect();
    let mut note_counts = vec![Counts::default(); codes.len()];
    let mut seg_counts = vec![Counts::default(); codes.len()];
    let mut note_cal = vec![Calibration::default(); codes.len()];
    let mut seg_cal = vec![Calibration::default(); codes.len()];
    let mut nseg = 0;
    let mut confusion = Confusion::new(codes.len());
    let mut misses: Vec<Miss> = Vec::new();
    for n in &notes {
        for g in n
            .codes
            .iter()
            .chain(n.segments.iter().flat_map(|s| &s.codes))
        {
            anyhow::ensure!(
                codes.contains(g),
                "note {}: code {g:?} is not in the model's codebook",
                n.id
            );
        }
        let s = coder.suggest(&n.text)?;
        for (k, c) in s.codes.iter().enumerate() {
            note_counts[k].add(c.suggested, n.codes.contains(&c.id));
            note_cal[k].add(c.score, n.codes.contains(&c.id));
        }
        // Gold segments: scalar offsets -> byte offsets, then score each segment's text.
        let char_to_byte: Vec<usize> = n
            .text
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(n.text.len()))
            .collect();
        let mut texts = Vec::new();
        for g in &n.segments {
            let (Some(&a), Some(&b)) = (char_to_byte.get(g.start), char_to_byte.get(g.end)) else {
                anyhow::bail!(
                    "note {}: segment {}..{} is outside the text ({} chars)",
                    n.id,
                    g.start,
                    g.end,
                    char_to_byte.len() - 1
                );
            };
            anyhow::ensure!(
                a <= b,
                "note {}: segment {}..{} ends before it starts",
                n.id,
                g.start,
                g.end
            );
            texts.push(&n.text[a..b]);
        }
        let scores = coder.score_texts(&texts)?;
        for ((g, sc), t) in n.segments.iter().zip(scores).zip(&texts) {
            nseg += 1;
            let predicted: Vec<bool> = (0..codes.len()).map(|k| sc[k] >= thresholds[k]).collect();
            let gold: Vec<bool> = codes.iter().map(|c| g.codes.contains(c)).collect();
            confusion.add(&predicted, &gold);
            for (k, c) in codes.iter().enumerate() {
                seg_counts[k].add(predicted[k], gold[k]);
                seg_cal[k].add(sc[k], gold[k]);
                if predicted[k] != gold[k] && html.is_some() {
                    misses.push(Miss {
                        note: n.id.to_string(),
                        text: t.to_string(),
                        code: c.clone(),
                        score: sc[k],
                        missed: gold[k],
                    });
                }
            }
        }
    }
    let note_rows = rows(&codes, &note_counts, &note_cal);
    let seg_rows = rows(&codes, &seg_counts, &seg_cal);
    let confusions = confusion.rows(&codes, 3);
    if let Some(path) = html {
        let report = html_report(
            gold,
            notes.len(),
            nseg,
            &note_rows,
            &seg_rows,
            &confusions,
            &mut misses,
        );
        std::fs::write(path, report).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("notecoder: wrote {}", path.display());
    }
    if json {
        let v = serde_json::json!({"notes": notes.len(), "segments": nseg, "note_level": note_rows, "segment_level": seg_rows, "confusions": confusions});
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!(
            "{}",
            table(&format!("note level ({} notes)", notes.len()), &note_rows)
        );
        println!();
        print!(
            "{}",
            table(&format!("segment level ({nseg} gold segments)"), &seg_rows)
        );
        println!();
        print!("{}", confusion_table(&confusions));
    }
    Ok(())
}

/// The HTML report: one file, no script, no external resource (a CSP that forbids both), readable offline.
fn html_report(
    gold: &Path,
    notes: usize,
    segments: usize,
    note_rows: &[Row],
    seg_rows: &[Row],
    confusions: &[ConfusionRow],
    misses: &mut [Miss],
) -> String {
    use quick_xml::escape::escape;
    let mut h = String::new();
    h += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
    h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n";
    h += &format!(
        "<title>notecoder eval: {}</title>\n",
        escape(&gold.display().to_string())
    );
    h += "<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}\
td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #ddd}td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}\
.bar{display:inline-block;height:10px;vertical-align:middle}.note{background:#2a7fbd}.seg{background:#d2691e}\
.miss{color:#a00}.fp{color:#555}</style></head><body>\n";
    h += &format!(
        "<h1>notecoder eval</h1><p>Gold: <code>{}</code>: {notes} notes, {segments} gold segments. Note level: the whole \
pipeline (segmenter, max over units); segment level: the classifier on the gold segments.</p>\n",
        escape(&gold.display().to_string())
    );
    h += "<h2>F1 per code</h2><table><tr><th>code</th><th>note F1</th><th></th><th>segment F1</th><th></th><th>note P / R</th><th>segment P / R</th><th>support (segments)</th></tr>\n";
    for (n, s) in note_rows.iter().zip(seg_rows) {
        h += &format!(
            "<tr><td>{}</td><td class=n>{:.3}</td><td><span class=\"bar note\" style=\"width:{:.0}px\"></span></td>\
<td class=n>{:.3}</td><td><span class=\"bar seg\" style=\"width:{:.0}px\"></span></td><td class=n>{:.3} / {:.3}</td>\
<td class=n>{:.3} / {:.3}</td><td class=n>{}</td></tr>\n",
            escape(&n.code),
            n.f1,
            n.f1 * 200.0,
            s.f1,
            s.f1 * 200.0,
            n.precision,
            n.recall,
            s.precision,
            s.recall,
            s.support
        );
    }
    h += "</table>\n<h2>Confusions (segment level)</h2><table><tr><th>code</th><th>false positives</th><th>their gold codes</th><th>misses</th><th>predicted instead</th></tr>\n";
    let list = |v: &[(String, usize)]| {
        v.iter()
            .map(|(c, k)| format!("{} {k}", escape(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for r in confusions {
        h += &format!(
            "<tr><td>{}</td><td class=n>{}</td><td>{}</td><td class=n>{}</td><td>{}</td></tr>\n",
            escape(&r.code),
            r.false_positives,
            list(&r.false_positives_gold),
            r.misses,
            list(&r.misses_predicted)
        );
    }
    h += "</table>\n";
    misses.sort_by(|a, b| {
        let key = |m: &Miss| if m.missed { m.score } else { 1.0 - m.score };
        key(a).total_cmp(&key(b))
    });
    for (title, missed) in [
        ("Worst misses (gold code, lowest scores)", true),
        ("Worst false positives (highest scores)", false),
    ] {
        h += &format!("<h2>{title}</h2><table><tr><th>note</th><th>code</th><th>score</th><th>segment</th></tr>\n");
        for m in misses.iter().filter(|m| m.missed == missed).take(25) {
            h += &format!(
                "<tr class={}><td>{}</td><td>{}</td><td class=n>{:.3}</td><td>{}</td></tr>\n",
                if missed { "miss" } else { "fp" },
                escape(&m.note),
                escape(&m.code),
                m.score,
                escape(&m.text)
            );
        }
        h += "</table>\n";
    }
    h += "</body></html>\n";
    h
}

/// One note of a `code` input, or the reason it could not be read (never containing note text).
struct SourceNote {
    /// Where it came from, for messages: `notes/a.txt`, `notes.csv row 4`, `line 7`.
    origin: String,
    id: String,
    text: std::result::Result<String, String>,
}

/// Reads the notes of `notecoder code`'s input: a folder of `.txt` files, a `.csv` file or JSONL.
fn read_sources(input: &Path, id_column: &str, text_column: &str) -> Result<Vec<SourceNote>> {
    let strip_bom = |s: String| s.strip_prefix('\u{FEFF}').map(str::to_string).unwrap_or(s);
    if input.is_dir() {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(input)
            .with_context(|| format!("cannot list {}", input.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("txt")))
            .collect();
        paths.sort();
        anyhow::ensure!(!paths.is_empty(), "{} holds no .txt file", input.display());
        return Ok(paths
            .into_iter()
            .map(|p| {
                let text = std::fs::read(&p)
                    .map_err(|e| format!("cannot read: {e}"))
                    .and_then(|b| {
                        String::from_utf8(b).map_err(|e| {
                            format!(
                                "not UTF-8 (invalid byte at offset {}); re-save the file as UTF-8",
                                e.utf8_error().valid_up_to()
                            )
                        })
                    })
                    .map(strip_bom);
                SourceNote {
                    origin: p.display().to_string(),
                    id: p
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    text,
                }
            })
            .collect());
    }
    let is_csv = input
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("csv"));
    if is_csv {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(false)
            .from_path(input)
            .with_context(|| format!("cannot open {}", input.display()))?;
        let headers = rdr
            .headers()
            .with_context(|| format!("{}: cannot read the header row", input.display()))?
            .clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{FEFF}').trim() == name)
                .with_context(|| {
                    format!(
                        "{}: no column named {name:?} (columns: {}); use --id-column / --text-column",
                        input.display(),
                        headers.iter().collect::<Vec<_>>().join(", ")
                    )
                })
        };
        let (id_col, text_col) = (col(id_column)?, col(text_column)?);
        let mut out = Vec::new();
        for (i, rec) in rdr.byte_records().enumerate() {
            let origin = format!("{} row {}", input.display(), i + 2);
            match rec {
                Ok(r) => {
                    let field = |k: usize| String::from_utf8(r.get(k).unwrap_or_default().to_vec());
                    let id = field(id_col).unwrap_or_else(|_| format!("row {}", i + 2));
                    let text = field(text_col).map_err(|e| {
                        format!(
                            "text is not UTF-8 (invalid byte at offset {})",
                            e.utf8_error().valid_up_to()
                        )
                    });
                    out.push(SourceNote { origin, id, text });
                }
                Err(e) => out.push(SourceNote {
                    origin,
                    id: String::new(),
                    text: Err(format!("not a CSV record: {e}")),
                }),
            }
        }
        return Ok(out);
    }
    let mut input_lines = open_input(Some(input))?;
    let mut out = Vec::new();
    for_each_line(&mut *input_lines, |lineno, parsed| {
        let origin = format!("line {lineno}");
        out.push(match parsed {
            Ok(n) => SourceNote {
                origin,
                id: match n.id {
                    Value::String(s) => s,
                    other => other.to_string(),
                },
                text: Ok(n.text),
            },
            Err((id, error)) => SourceNote {
                origin,
                id: match id {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                },
                text: Err(error),
            },
        });
        Ok(())
    })?;
    Ok(out)
}

/// One coded segment: a unit of a note that reaches a code's threshold.
#[derive(Serialize)]
struct CodedSegment<'a> {
    note_id: &'a str,
    /// Unicode scalar offset of the segment's first character.
    start: usize,
    /// Unicode scalar offset just past its last character (exclusive).
    end: usize,
    text: &'a str,
    code: &'a str,
    score: f32,
}

#[allow(clippy::too_many_arguments)]
fn code_corpus(
    coder: &mut NoteCoder,
    input: &Path,
    csv_out: Option<&Path>,
    jsonl_out: Option<&Path>,
    qdpx_out: Option<&Path>,
    id_column: &str,
    text_column: &str,
) -> Result<ExitCode> {
    let notes = read_sources(input, id_column, text_column)?;
    let create = |p: &Path| -> Result<BufWriter<std::fs::File>> {
        Ok(BufWriter::new(std::fs::File::create(p).with_context(
            || format!("cannot create {}", p.display()),
        )?))
    };
    let mut csv_w = csv_out
        .map(|p| create(p).map(csv::Writer::from_writer))
        .transpose()?;
    if let Some(w) = csv_w.as_mut() {
        w.write_record(["note_id", "start", "end", "text", "code", "score"])?;
    }
    let mut jsonl_w: Option<Box<dyn Write>> = match (jsonl_out, csv_out.or(qdpx_out)) {
        (Some(p), _) => Some(Box::new(create(p)?)),
        (None, None) => Some(Box::new(BufWriter::new(std::io::stdout().lock()))),
        (None, Some(_)) => None,
    };
    let mut project: Vec<notecoder::qda::ProjectNote> = Vec::new();
    let domains: Vec<String> = coder
        .codebook()
        .domains
        .iter()
        .map(|d| d.id.clone())
        .collect();
    let code_domain: Vec<usize> = coder
        .codebook()
        .codes
        .iter()
        .map(|c| domains.iter().position(|d| *d == c.domain).unwrap_or(0))
        .collect();
    let mut per_domain = vec![0usize; domains.len()];
    let (mut coded_notes, mut units, mut coded_segments, mut failed) =
        (0usize, 0usize, 0usize, 0usize);
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(notes.len() as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} notes, {elapsed} elapsed, {eta} left",
        )
        .expect("a valid template"),
    );
    for note in &notes {
        bar.inc(1);
        let text = match &note.text {
            Ok(t) => t,
            Err(e) => {
                bar.suspend(|| eprintln!("notecoder: {}: {e}", note.origin));
                failed += 1;
                continue;
            }
        };
        let segments = match coder.score_note(text) {
            Ok(s) => s,
            Err(e) => {
                bar.suspend(|| eprintln!("notecoder: {}: {e}", note.origin));
                failed += 1;
                continue;
            }
        };
        coded_notes += 1;
        units += segments.len();
        let thresholds: Vec<f32> = coder.codebook().codes.iter().map(|c| c.threshold).collect();
        let bytes: Vec<usize> = segments
            .iter()
            .flat_map(|s| [s.span.start, s.span.end])
            .collect();
        let scalars = notecoder::offsets::map_offsets(text, &bytes, OffsetUnit::Scalar);
        let mut note_segments = Vec::new();
        for (i, seg) in segments.iter().enumerate() {
            let coded: Vec<usize> = (0..seg.scores.len())
                .filter(|&k| seg.scores[k] >= thresholds[k])
                .collect();
            if !coded.is_empty() {
                note_segments.push((scalars[2 * i], scalars[2 * i + 1], coded));
            }
            for (k, &score) in seg.scores.iter().enumerate() {
                if score < thresholds[k] {
                    continue;
                }
                let row = CodedSegment {
                    note_id: &note.id,
                    start: scalars[2 * i],
                    end: scalars[2 * i + 1],
                    text: &text[seg.span.start..seg.span.end],
                    code: &coder.codebook().codes[k].id,
                    score,
                };
                coded_segments += 1;
                per_domain[code_domain[k]] += 1;
                if let Some(w) = csv_w.as_mut() {
                    w.write_record([
                        row.note_id,
                        &row.start.to_string(),
                        &row.end.to_string(),
                        row.text,
                        row.code,
                        &format!("{:.4}", row.score),
                    ])?;
                }
                if let Some(w) = jsonl_w.as_mut() {
                    serde_json::to_writer(&mut *w, &row)?;
                    writeln!(w)?;
                }
            }
        }
        if qdpx_out.is_some() {
            project.push(notecoder::qda::ProjectNote {
                id: note.id.clone(),
                text: text.clone(),
                segments: note_segments,
            });
        }
    }
    bar.finish_and_clear();
    if let Some(p) = qdpx_out {
        let bytes = notecoder::qda::to_qdpx(
            coder.codebook(),
            &project,
            &format!("notecoder {}", env!("CARGO_PKG_VERSION")),
        )?;
        std::fs::write(p, bytes).with_context(|| format!("cannot write {}", p.display()))?;
    }
    if let Some(mut w) = csv_w {
        w.flush()?;
    }
    if let Some(mut w) = jsonl_w {
        w.flush()?;
    }
    let by_domain: Vec<String> = domains
        .iter()
        .zip(&per_domain)
        .map(|(d, n)| format!("{d} {n}"))
        .collect();
    eprintln!(
        "notecoder: coded {coded_notes} of {} notes: {units} segments, {coded_segments} coded segments ({})",
        notes.len(),
        by_domain.join(", ")
    );
    if failed > 0 {
        eprintln!("notecoder: {failed} note(s) not coded (see the messages above)");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `import-project`: a `.qdpx` to labeled JSONL notes (and optionally the codebook they use).
fn import_project(
    file: &Path,
    out: Option<&Path>,
    target: Option<&Path>,
    codebook_out: Option<&Path>,
    keep_uncoded: bool,
    name: Option<String>,
) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = name.unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "imported".into())
    });
    let project = notecoder::qda::from_qdpx(&bytes, &name)
        .with_context(|| format!("cannot import {}", file.display()))?;
    // The codebook the notes are written with: its code ids, its JSON for --codebook-out, and the index in it
    // of each project code. A training codebook has no thresholds yet (train.py chooses them), so --codebook
    // is read for its codes' ids and labels only.
    let (ids, book_json, map): (Vec<String>, String, Vec<Option<usize>>) = match target {
        None => {
            let n = project.codebook.len();
            let mut json = serde_json::to_string_pretty(&project.codebook)?;
            json.push('\n');
            let ids = project
                .codebook
                .codes
                .iter()
                .map(|c| c.id.clone())
                .collect();
            (ids, json, (0..n).map(Some).collect())
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let doc: Value = serde_json::from_str(text.trim_start_matches('\u{FEFF}'))
                .with_context(|| format!("{} is not JSON", path.display()))?;
            let codes: Vec<(String, String)> = doc["codes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| {
                            let id = c["id"].as_str()?.to_string();
                            let label = c["label"].as_str().unwrap_or(&id).to_string();
                            Some((id, label))
                        })
                        .collect()
                })
                .unwrap_or_default();
            if codes.is_empty() {
                anyhow::bail!("{} lists no codes with an \"id\"", path.display());
            }
            // By id first; by label only when exactly one code of the codebook has it (two domains may both
            // have an "Other").
            let norm = |s: &str| s.trim().to_lowercase();
            let find = |c: &notecoder::Code| {
                codes
                    .iter()
                    .position(|(id, _)| id.eq_ignore_ascii_case(&c.id))
                    .or_else(|| {
                        let hits: Vec<usize> = (0..codes.len())
                            .filter(|&i| norm(&codes[i].1) == norm(&c.label))
                            .collect();
                        (hits.len() == 1).then(|| hits[0])
                    })
            };
            let map: Vec<Option<usize>> = project.codebook.codes.iter().map(find).collect();
            for (k, target) in map.iter().enumerate() {
                let merged: Vec<&str> = (0..k)
                    .filter(|&j| map[j].is_some() && map[j] == *target)
                    .map(|j| project.codebook.codes[j].label.as_str())
                    .collect();
                if let (Some(t), false) = (target, merged.is_empty()) {
                    eprintln!(
                        "notecoder: warning: project codes {} and {:?} both map to {}",
                        merged.join(", "),
                        project.codebook.codes[k].label,
                        codes[*t].0
                    );
                }
            }
            (codes.into_iter().map(|(id, _)| id).collect(), text, map)
        }
    };
    let used: std::collections::BTreeSet<usize> = project
        .sources
        .iter()
        .flat_map(|s| {
            s.selections
                .iter()
                .flat_map(|sel| sel.codes.iter().copied())
        })
        .collect();
    let missing: Vec<&str> = used
        .iter()
        .filter(|&&k| map[k].is_none())
        .map(|&k| project.codebook.codes[k].label.as_str())
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "{} codes used in {} are not in {} (matched by id, or by a label no other code has): {}",
            missing.len(),
            file.display(),
            target.map(|p| p.display().to_string()).unwrap_or_default(),
            missing.join(", ")
        );
    }
    let mut lines = String::new();
    let (mut written, mut uncoded, mut units) = (0usize, 0usize, 0usize);
    let mut per_code = vec![0usize; ids.len()];
    let mut seen_ids = std::collections::HashSet::new();
    for (i, source) in project.sources.iter().enumerate() {
        if source.selections.is_empty() {
            uncoded += 1;
        }
        if source.selections.is_empty() && !keep_uncoded {
            continue;
        }
        let selections: Vec<notecoder::qda::Selection> = source
            .selections
            .iter()
            .map(|s| notecoder::qda::Selection {
                start: s.start,
                end: s.end,
                codes: s.codes.iter().filter_map(|&k| map[k]).collect(),
            })
            .collect();
        let labeled = notecoder::qda::label_units(&source.text, &selections);
        let mut note_codes: Vec<usize> = labeled.iter().flat_map(|u| u.2.iter().copied()).collect();
        note_codes.sort_unstable();
        note_codes.dedup();
        for u in &labeled {
            for &k in &u.2 {
                per_code[k] += 1;
            }
        }
        units += labeled.len();
        let mut id = if source.name.is_empty() {
            format!("source-{}", i + 1)
        } else {
            source.name.clone()
        };
        while !seen_ids.insert(id.clone()) {
            id.push_str("-dup");
        }
        let segments: Vec<Value> = labeled
            .iter()
            .map(|(a, b, codes)| {
                json!({"start": a, "end": b, "codes": codes.iter().map(|&k| &ids[k]).collect::<Vec<_>>()})
            })
            .collect();
        let note = json!({
            "id": id,
            "text": source.text,
            "segments": segments,
            "codes": note_codes.iter().map(|&k| &ids[k]).collect::<Vec<_>>(),
        });
        lines.push_str(&serde_json::to_string(&note)?);
        lines.push('\n');
        written += 1;
    }
    write_or_print(out, &lines)?;
    if let Some(path) = codebook_out {
        std::fs::write(path, book_json)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!(
        "notecoder: {written} notes, {units} units from {} text sources ({uncoded} without any coding {}{}{})",
        project.sources.len(),
        if keep_uncoded {
            "kept as notes with no code"
        } else {
            "left out"
        },
        if project.skipped_sources > 0 {
            format!(", {} non-text sources left out", project.skipped_sources)
        } else {
            String::new()
        },
        if project.skipped_codings > 0 {
            format!(", {} codings of non-codable codes left out", project.skipped_codings)
        } else {
            String::new()
        },
    );
    for (k, id) in ids.iter().enumerate() {
        eprintln!("  {id:<40} {:>6} units", per_code[k]);
    }
    Ok(())
}

fn write_or_print(out: Option<&Path>, text: &str) -> Result<()> {
    match out {
        Some(p) => std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    let errors = match cli.command {
        Command::Code {
            input,
            csv,
            jsonl,
            qdpx,
            id_column,
            text_column,
        } => {
            let mut coder = load_model(&cli.model)?;
            return code_corpus(
                &mut coder,
                &input,
                csv.as_deref(),
                jsonl.as_deref(),
                qdpx.as_deref(),
                &id_column,
                &text_column,
            );
        }
        Command::ExportCodebook { format: _, out } => {
            let dir = &cli.model;
            let path = dir.join("codebook.json");
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let book = notecoder::Codebook::from_json(&bytes)
                .with_context(|| format!("cannot load {}", path.display()))?;
            let xml =
                notecoder::qda::to_qdc(&book, &format!("notecoder {}", env!("CARGO_PKG_VERSION")))?;
            write_or_print(out.as_deref(), &xml)?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::ImportCodebook { file, out, name } => {
            let xml = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let name = name.unwrap_or_else(|| {
                file.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "imported".into())
            });
            let book = notecoder::qda::from_qdc(xml.trim_start_matches('\u{FEFF}'), &name)
                .with_context(|| format!("cannot import {}", file.display()))?;
            let mut json = serde_json::to_string_pretty(&book)?;
            json.push('\n');
            write_or_print(out.as_deref(), &json)?;
            eprintln!(
                "notecoder: imported {} domains and {} codes (thresholds 0.5 until a model is trained)",
                book.domains.len(),
                book.codes.len()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Command::ImportProject {
            file,
            out,
            codebook,
            codebook_out,
            keep_uncoded,
            name,
        } => {
            import_project(
                &file,
                out.as_deref(),
                codebook.as_deref(),
                codebook_out.as_deref(),
                keep_uncoded,
                name,
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Eval { gold, json, html } => {
            eval(&mut load_model(&cli.model)?, &gold, json, html.as_deref())?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Classify { file, jobs } => {
            let max_jobs = if jobs == 0 {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            } else {
                usize::from(jobs)
            };
            // One model now (a broken model folder fails before any output); more only when lines need them.
            let first = vec![Job::Classify(load_model(&cli.model)?)];
            let input = open_input(file.as_deref())?;
            let mut out = BufWriter::new(std::io::stdout().lock());
            let mut jobs = first;
            let more = || load_model(&cli.model).map(Job::Classify);
            for_each_note(&mut jobs, max_jobs, more, input, &mut out)?
        }
        Command::Segment { file } => {
            let input = open_input(file.as_deref())?;
            let mut out = BufWriter::new(std::io::stdout().lock());
            let never = || -> Result<Job> { anyhow::bail!("segment runs on one thread") };
            for_each_note(&mut vec![Job::Segment], 1, never, input, &mut out)?
        }
    };
    if errors > 0 {
        eprintln!(
            "notecoder: {errors} line(s) not processed (see the error records and messages above)"
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    // A panic message can quote the string it was slicing, which may be note text: print where, not what.
    // (Panics inside tract and tokenizers on a malformed model folder are caught and reported as errors.)
    std::panic::set_hook(Box::new(|info| {
        let file = info.location().map(|l| l.file()).unwrap_or("");
        // Panics in these libraries on a malformed model folder are caught and reported as typed errors.
        if ["/tract-", "/ndarray-", "/tokenizers-"]
            .iter()
            .any(|lib| file.contains(lib))
        {
            return;
        }
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "notecoder: internal panic at {at} (its message is withheld: it may quote note text)"
        );
    }));
    match run() {
        Ok(code) => code,
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("notecoder: {e:#}");
            ExitCode::from(2)
        }
    }
}
