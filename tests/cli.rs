//! The `notecoder` binary, run on files in a temporary folder.

mod common;

use assert_cmd::Command;
use serde_json::Value;

fn notecoder() -> Command {
    Command::cargo_bin("notecoder").unwrap()
}

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn classify_writes_one_line_per_note_with_scalar_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("notes.jsonl");
    // Python: text[start:end] indexes Unicode scalars; the emoji and accent before the evidence shift
    // bytes and UTF-16 units but not scalars.
    let text = "\u{1F600} Caf\u{E9} visit. Pt denied SI/HI.";
    std::fs::write(
        &input,
        format!("{}\n", serde_json::json!({"id": "n1", "text": text})),
    )
    .unwrap();
    let out = notecoder()
        .args(["classify"])
        .arg(&input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let recs = lines(&out);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["id"], "n1");
    let codes = recs[0]["codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let risk = codes.iter().find(|c| c["id"] == "assessed.risk").unwrap();
    assert_eq!(risk["suggested"], true);
    let e = &risk["evidence"][0];
    let (s, t) = (
        e["start"].as_u64().unwrap() as usize,
        e["end"].as_u64().unwrap() as usize,
    );
    let got: String = text.chars().skip(s).take(t - s).collect();
    assert_eq!(got, "Pt denied SI/HI.");
    assert_eq!((s, t), (14, 30));
}

#[test]
fn a_bad_line_yields_an_error_record_and_the_run_goes_on() {
    // BOM, a record without text, a line that is not JSON, a blank line, invalid UTF-8, a numeric id, CRLF.
    let mut input = b"\xEF\xBB\xBF{\"id\":\"a\",\"text\":\"Pt calm.\"}\n{\"id\":\"b\",\"txt\":\"secret words\"}\nnot json\n\n".to_vec();
    input.extend_from_slice(
        b"{\"id\":\"u\",\"text\":\"x\xff\"}\n{\"id\":7,\"text\":\"Denied SI.\"}\r\n",
    );
    let assert = notecoder()
        .arg("classify")
        .arg("-")
        .write_stdin(input)
        .assert()
        .code(1);
    let out = assert.get_output();
    let recs = lines(&out.stdout);
    // Exactly one output line per input line, in order.
    let ids: Vec<&Value> = recs.iter().map(|r| &r["id"]).collect();
    assert_eq!(
        ids,
        [
            &Value::from("a"),
            &Value::from("b"),
            &Value::Null,
            &Value::Null,
            &Value::Null,
            &Value::from(7)
        ]
    );
    assert!(recs[0]["codes"].is_array() && recs[5]["codes"].is_array());
    assert_eq!(recs[1]["line"], 2);
    assert!(recs[1]["error"]
        .as_str()
        .unwrap()
        .contains("missing field `text`"));
    assert_eq!(recs[3]["error"], "blank line");
    assert!(recs[4]["error"].as_str().unwrap().contains("not UTF-8"));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("secret words"),
        "note text leaked into an error"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 4: blank line") && stderr.contains("4 line(s) not processed"),
        "{stderr}"
    );
}

#[test]
fn classify_on_several_threads_writes_the_same_lines_in_input_order() {
    // 1,200 lines (more than two 512-line chunks), every 97th one broken: --jobs 1, 2, 3 and 7 must write
    // byte-identical output and the same messages, in input order.
    let texts = [
        "Met w/ ofcs on arrival. Pt denied SI/HI.",
        "Spoke w/ mother by phone, she reports pt not sleeping x3 days.",
        "Called cancelled.",
        "Clinician advised officers to give pt space; pt agreed to voluntary eval at ED.",
    ];
    let mut input = String::new();
    for i in 0..1200 {
        if i % 97 == 13 {
            input.push_str("{\"id\": \"broken\"\n");
        } else {
            input.push_str(
                &serde_json::json!({"id": i, "text": texts[i % texts.len()]}).to_string(),
            );
            input.push('\n');
        }
    }
    let run = |jobs: &str| {
        let out = notecoder()
            .args(["classify", "-", "--jobs", jobs])
            .write_stdin(input.clone())
            .assert()
            .code(1)
            .get_output()
            .clone();
        (out.stdout, String::from_utf8(out.stderr).unwrap())
    };
    let (one, one_err) = run("1");
    let recs = lines(&one);
    assert_eq!(recs.len(), 1200);
    assert_eq!(recs[13]["line"], 14);
    assert_eq!(recs[1199]["id"], 1199);
    assert!(one_err.contains("13 line(s) not processed"), "{one_err}");
    for jobs in ["2", "3", "7"] {
        let (many, many_err) = run(jobs);
        assert!(
            many == one,
            "--jobs {jobs} wrote other output than --jobs 1"
        );
        assert_eq!(many_err, one_err, "--jobs {jobs}");
    }
}

#[test]
fn an_input_of_only_a_byte_order_mark_is_empty() {
    for cmd in ["classify", "segment"] {
        let out = notecoder()
            .args([cmd, "-"])
            .write_stdin(b"\xEF\xBB\xBF".to_vec())
            .assert()
            .success()
            .get_output()
            .clone();
        assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{cmd}");
    }
}

#[test]
fn segment_writes_units_in_scalar_offsets() {
    let out = notecoder()
        .arg("segment")
        .write_stdin("{\"id\":\"s\",\"text\":\"\u{e9} Pt calm. MSE: flat\"}\n")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(out).unwrap().trim(),
        r#"{"id":"s","segments":[{"start":0,"end":10},{"start":11,"end":15},{"start":16,"end":20}]}"#
    );
}

#[test]
fn eval_prints_note_and_segment_tables_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("gold.jsonl");
    let note = serde_json::json!({"id": "g1", "text": "Met w/ ofcs. Pt denied SI/HI.",
        "segments": [{"start": 0, "end": 12, "codes": ["interacted.police"]}, {"start": 13, "end": 29, "codes": ["assessed.risk"]}],
        "codes": ["assessed.risk", "interacted.police"]});
    std::fs::write(&gold, format!("{note}\n")).unwrap();
    let out = notecoder()
        .args(["eval", "--gold"])
        .arg(&gold)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("note level (1 notes)") && text.contains("segment level (2 gold segments)"),
        "{text}"
    );
    assert!(text.contains("macro") && text.contains("micro"));
    let out = notecoder()
        .args(["eval", "--json", "--gold"])
        .arg(&gold)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let risk = v["segment_level"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "assessed.risk")
        .unwrap();
    assert_eq!(risk["support"], 1);
    assert_eq!(v["segment_level"].as_array().unwrap().len(), 12);
}

#[test]
fn a_broken_model_folder_fails_with_exit_2_and_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["config.json", "codebook.json", "tokenizer.json"] {
        std::fs::copy(common::model_dir().join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(
        dir.path().join("model.onnx"),
        b"<html>502 Bad Gateway</html>",
    )
    .unwrap();
    let out = notecoder()
        .args(["classify", "--model"])
        .arg(dir.path())
        .write_stdin("")
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let msg = String::from_utf8_lossy(&out);
    assert!(
        msg.contains("cannot load the model folder") && msg.contains("HTML"),
        "{msg}"
    );
    std::fs::remove_file(dir.path().join("model.onnx")).unwrap();
    let out = notecoder()
        .args(["classify", "--model"])
        .arg(dir.path())
        .write_stdin("")
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("model.onnx"));
}

fn write(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn code_a_folder_of_txt_writes_csv_and_jsonl_rows_whose_offsets_slice_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    // Emoji (astral), a ZWJ sequence and accents before the evidence: scalars differ from bytes and UTF-16.
    let a = "\u{1F469}\u{200D}\u{1F467} Caf\u{E9} r\u{E9}sum\u{E9}. Pt denied SI/HI.\r\nSpoke w/ ofcs on scene.";
    write(&notes.join("a.txt"), &format!("\u{FEFF}{a}"));
    write(
        &notes.join("b.txt"),
        "Mother reports pt has not slept in 3 days.",
    );
    write(&notes.join("ignored.md"), "not a note");
    let csv_path = dir.path().join("out.csv");
    let jsonl_path = dir.path().join("out.jsonl");
    let assert = notecoder()
        .arg("code")
        .arg(&notes)
        .arg("--csv")
        .arg(&csv_path)
        .arg("--jsonl")
        .arg(&jsonl_path)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("coded 2 of 2 notes"), "{stderr}");
    assert!(
        stderr.contains("interacted "),
        "summary per domain: {stderr}"
    );
    assert!(
        !stderr.contains("denied"),
        "note text in the summary: {stderr}"
    );
    let rows = lines(&std::fs::read(&jsonl_path).unwrap());
    assert!(rows
        .iter()
        .any(|r| r["note_id"] == "a" && r["code"] == "assessed.risk"));
    assert!(rows
        .iter()
        .any(|r| r["note_id"] == "b" && r["code"] == "interacted.family"));
    for r in &rows {
        let text = if r["note_id"] == "a" {
            a
        } else {
            "Mother reports pt has not slept in 3 days."
        };
        let (s, e) = (
            r["start"].as_u64().unwrap() as usize,
            r["end"].as_u64().unwrap() as usize,
        );
        let got: String = text.chars().skip(s).take(e - s).collect();
        assert_eq!(got, r["text"].as_str().unwrap(), "row {r}");
        let score = r["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
    }
    let risk = rows
        .iter()
        .find(|r| r["note_id"] == "a" && r["code"] == "assessed.risk")
        .unwrap();
    assert_eq!(risk["text"], "Pt denied SI/HI.");
    assert_eq!(
        (risk["start"].as_u64(), risk["end"].as_u64()),
        (Some(17), Some(33))
    );
    // The CSV holds the same rows, with a header.
    let mut rdr = csv::Reader::from_path(&csv_path).unwrap();
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        ["note_id", "start", "end", "text", "code", "score"]
    );
    let csv_rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(csv_rows.len(), rows.len());
    assert_eq!(&csv_rows[0][0], rows[0]["note_id"].as_str().unwrap());
    assert_eq!(&csv_rows[0][3], rows[0]["text"].as_str().unwrap());
}

#[test]
fn code_a_csv_names_bad_rows_and_missing_columns_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("notes.csv");
    let mut bytes = b"note,body\nn1,\"Pt denied SI, HI.\"\nn2,\"".to_vec();
    bytes.extend_from_slice(b"\xFF bad bytes\"\n");
    std::fs::write(&input, bytes).unwrap();
    // Wrong column names: a precise message, exit 2.
    let out = notecoder()
        .arg("code")
        .arg(&input)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no column named \"id\"") && err.contains("note, body"),
        "{err}"
    );
    // The right ones: n1 coded, n2 reported by row, exit 1, and no note text in the messages.
    let out = notecoder()
        .args(["code", "--id-column", "note", "--text-column", "body"])
        .arg(&input)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.csv row 3: text is not UTF-8"), "{err}");
    assert!(err.contains("coded 1 of 2 notes"), "{err}");
    assert!(
        !err.contains("bad bytes") && !err.contains("denied"),
        "{err}"
    );
    let rows = lines(&out.stdout);
    assert!(rows.iter().all(|r| r["note_id"] == "n1"));
    assert!(rows.iter().any(|r| r["code"] == "assessed.risk"));
}

#[test]
fn export_codebook_is_stable_and_import_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let qdc = dir.path().join("coresponse.qdc");
    let run = || {
        notecoder()
            .args(["export-codebook", "--format", "qdc"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    let first = run();
    assert_eq!(first, run(), "GUIDs and order must not change between runs");
    let xml = String::from_utf8(first).unwrap();
    assert_eq!(xml.matches("isCodable=\"false\"").count(), 3);
    assert_eq!(xml.matches("isCodable=\"true\"").count(), 10);
    std::fs::write(&qdc, &xml).unwrap();
    let out_json = dir.path().join("codebook.json");
    notecoder()
        .arg("import-codebook")
        .arg(&qdc)
        .arg("--out")
        .arg(&out_json)
        .assert()
        .success();
    let book = notecoder::Codebook::from_json(&std::fs::read(&out_json).unwrap()).unwrap();
    assert_eq!(book.name, "coresponse");
    assert_eq!(book.domains.len(), 3);
    assert_eq!(book.codes.len(), 10);
    let shipped = notecoder::Codebook::from_json(
        &std::fs::read(common::model_dir().join("codebook.json")).unwrap(),
    )
    .unwrap();
    let labels = |b: &notecoder::Codebook| {
        b.codes
            .iter()
            .map(|c| (c.label.clone(), c.colour.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(labels(&book), labels(&shipped));
    assert!(book.codes[0]
        .definition
        .starts_with(&shipped.codes[0].definition));
}

#[test]
fn eval_reports_confusions_and_writes_an_offline_html_report() {
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("gold.jsonl");
    // Hand-labeled so that the model must err: "Pt denied SI/HI." is labeled police only (a wrong label), so
    // risk is a false positive whose gold is interacted.police, and police is a miss.
    let note = serde_json::json!({"id": "g<1>", "text": "Pt denied SI/HI.",
        "segments": [{"start": 0, "end": 16, "codes": ["interacted.police"]}],
        "codes": ["interacted.police"]});
    std::fs::write(&gold, format!("{note}\n")).unwrap();
    let html = dir.path().join("report.html");
    let out = notecoder()
        .args(["eval", "--json", "--gold"])
        .arg(&gold)
        .arg("--html")
        .arg(&html)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let conf = v["confusions"].as_array().unwrap();
    let risk = conf.iter().find(|r| r["code"] == "assessed.risk").unwrap();
    assert_eq!(risk["false_positives"], 1);
    assert_eq!(
        risk["false_positives_gold"][0],
        serde_json::json!(["interacted.police", 1])
    );
    let police = conf
        .iter()
        .find(|r| r["code"] == "interacted.police")
        .unwrap();
    assert_eq!(police["misses"], 1);
    assert_eq!(police["misses_predicted"][0][0], "assessed.risk");
    let report = std::fs::read_to_string(&html).unwrap();
    assert!(report.contains("<h2>F1 per code</h2>") && report.contains("assessed.risk"));
    assert!(report.contains("g&lt;1&gt;"), "the note id is escaped");
    assert!(
        !report.contains("<script") && !report.contains("http://") && !report.contains("https://")
    );
    assert!(report.contains("default-src 'none'"));
}
