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

/// The model shipped with this repository.
const SHIPPED_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/coresponse-v1");

#[derive(Parser)]
#[command(
    name = "notecoder",
    version,
    about = "Suggest co-response framework codes for clinician notes, offline"
)]
struct Cli {
    /// Model folder (config.json, codebook.json, tokenizer.json, model.onnx).
    #[arg(long, global = true, default_value = SHIPPED_MODEL)]
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
        /// Labeled notes in the JSONL form of shared/framework.md.
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
    id: &'a str,
    codes: Vec<OutCode<'a>>,
}

#[derive(Serialize)]
struct OutError<'a> {
    id: Option<&'a str>,
    line: usize,
    error: String,
}

#[derive(serde::Deserialize)]
struct InNote {
    id: String,
    text: String,
}

/// What to do with each note of a JSONL input.
enum Job<'a> {
    Classify(&'a mut NoteCoder),
    Segment,
}

/// Runs `job` on every line; returns the number of lines reported as errors or skipped.
fn for_each_note(mut job: Job<'_>, input: Box<dyn BufRead>, out: &mut impl Write) -> Result<usize> {
    let mut errors = 0;
    for (i, line) in input.lines().enumerate() {
        let lineno = i + 1;
        let line = line.with_context(|| format!("reading line {lineno}"))?;
        let line = if lineno == 1 {
            line.trim_start_matches('\u{FEFF}')
        } else {
            line.as_str()
        };
        if line.trim().is_empty() {
            eprintln!("notecoder: line {lineno}: blank line, skipped");
            errors += 1;
            continue;
        }
        let record = match serde_json::from_str::<InNote>(line) {
            Ok(n) => n,
            Err(e) => {
                // The id, when the line has one, goes into the error record; the text never does.
                let id = serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned));
                let err = OutError {
                    id: id.as_deref(),
                    line: lineno,
                    error: format!("not a note {{\"id\", \"text\"}}: {e}"),
                };
                serde_json::to_writer(&mut *out, &err)?;
                writeln!(out)?;
                errors += 1;
                continue;
            }
        };
        let coder = match &mut job {
            Job::Classify(c) => c,
            Job::Segment => {
                let spans = notecoder::segment(&record.text);
                let bytes: Vec<usize> = spans.iter().flat_map(|s| [s.start, s.end]).collect();
                let scalars =
                    notecoder::offsets::map_offsets(&record.text, &bytes, OffsetUnit::Scalar);
                let segments: Vec<serde_json::Value> = scalars
                    .chunks(2)
                    .map(|p| serde_json::json!({"start": p[0], "end": p[1]}))
                    .collect();
                serde_json::to_writer(
                    &mut *out,
                    &serde_json::json!({"id": record.id, "segments": segments}),
                )?;
                writeln!(out)?;
                continue;
            }
        };
        match coder.suggest(&record.text) {
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
                serde_json::to_writer(
                    &mut *out,
                    &OutError {
                        id: Some(&record.id),
                        line: lineno,
                        error: e.to_string(),
                    },
                )?;
                errors += 1;
            }
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(errors)
}

fn eval(coder: &mut NoteCoder, gold: &Path, json: bool) -> Result<()> {
    let text =
        std::fs::read_to_string(gold).with_context(|| format!("cannot read {}", gold.display()))?;
    let notes: Vec<GoldNote> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l.trim_start_matches('\u{FEFF}'))
                .with_context(|| format!("{}:{}: not a labeled note", gold.display(), i + 1))
        })
        .collect::<Result<_>>()?;
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
