//! `notecoder`: code clinician notes from the command line with a model folder.
//!
//! ```text
//! notecoder classify [FILE|-] [--model DIR]     JSONL {"id","text"} in, one JSONL result per line out
//! notecoder segment [FILE|-]                   JSONL {"id","text"} in, {"id","segments"} out
//! notecoder eval --gold FILE [--model DIR] [--json]
//! ```
//! Offsets in output are Unicode scalar values (Python `str` indices). Exit status: 0 when every line was
//! coded, 1 when some line was reported as an error (the run goes on), 2 when the run could not start.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use notecoder::eval::{rows, table, Calibration, Counts, GoldNote};
use notecoder::offsets::convert;
use notecoder::{ModelFiles, NoteCoder, OffsetUnit};
use serde::Serialize;
use serde_json::Value;

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
    },
    /// Read JSONL notes {"id", "text"} and write their coding units: {"id", "segments": [{"start", "end"}]}.
    Segment {
        /// Input file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
    /// Precision, recall and F1 per code against labeled notes, at note and segment level.
    Eval {
        /// Labeled notes in the JSONL form of docs/framework.md; `-` reads standard input.
        #[arg(long)]
        gold: PathBuf,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
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
enum Job<'a> {
    Classify(&'a mut NoteCoder),
    Segment,
}

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

/// Runs `job` on every line, writing exactly one output line per input line (a result or an error record);
/// returns the number of error records.
fn for_each_note(
    mut job: Job<'_>,
    mut input: Box<dyn BufRead>,
    out: &mut impl Write,
) -> Result<usize> {
    let mut errors = 0;
    let mut buf = Vec::new();
    let mut lineno = 0;
    loop {
        buf.clear();
        if input
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("reading line {}", lineno + 1))?
            == 0
        {
            break;
        }
        lineno += 1;
        let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let record = match parse_line(bytes, lineno) {
            Ok(r) => r,
            Err((id, error)) => {
                eprintln!("notecoder: line {lineno}: {error}");
                serde_json::to_writer(
                    &mut *out,
                    &OutError {
                        id: &id,
                        line: lineno,
                        error,
                    },
                )?;
                writeln!(out)?;
                errors += 1;
                continue;
            }
        };
        match &mut job {
            Job::Segment => {
                let spans = notecoder::segment(&record.text);
                let bytes: Vec<usize> = spans.iter().flat_map(|s| [s.start, s.end]).collect();
                let scalars =
                    notecoder::offsets::map_offsets(&record.text, &bytes, OffsetUnit::Scalar);
                let segments = scalars
                    .chunks(2)
                    .map(|p| Span {
                        start: p[0],
                        end: p[1],
                    })
                    .collect();
                serde_json::to_writer(
                    &mut *out,
                    &OutSegments {
                        id: &record.id,
                        segments,
                    },
                )?;
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
                    serde_json::to_writer(
                        &mut *out,
                        &OutNote {
                            id: &record.id,
                            codes,
                        },
                    )?;
                }
                Err(e) => {
                    eprintln!("notecoder: line {lineno}: {e}");
                    serde_json::to_writer(
                        &mut *out,
                        &OutError {
                            id: &record.id,
                            line: lineno,
                            error: e.to_string(),
                        },
                    )?;
                    errors += 1;
                }
            },
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(errors)
}

fn eval(coder: &mut NoteCoder, gold: &Path, json: bool) -> Result<()> {
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
        for (g, sc) in n.segments.iter().zip(scores) {
            nseg += 1;
            for (k, c) in codes.iter().enumerate() {
                seg_counts[k].add(sc[k] >= thresholds[k], g.codes.contains(c));
                seg_cal[k].add(sc[k], g.codes.contains(c));
            }
        }
    }
    let note_rows = rows(&codes, &note_counts, &note_cal);
    let seg_rows = rows(&codes, &seg_counts, &seg_cal);
    if json {
        let v = serde_json::json!({"notes": notes.len(), "segments": nseg, "note_level": note_rows, "segment_level": seg_rows});
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
    }
    Ok(())
}

fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    let (job, file) = match cli.command {
        Command::Eval { gold, json } => {
            eval(&mut load_model(&cli.model)?, &gold, json)?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Classify { file } => (Some(load_model(&cli.model)?), file),
        Command::Segment { file } => (None, file),
    };
    let mut coder = job;
    let input = open_input(file.as_deref())?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let job = match coder.as_mut() {
        Some(c) => Job::Classify(c),
        None => Job::Segment,
    };
    let errors = for_each_note(job, input, &mut out)?;
    if errors > 0 {
        eprintln!(
            "notecoder: {errors} line(s) not processed (see the error records and messages above)"
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
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
