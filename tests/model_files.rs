//! Loading a model folder: every broken file is refused with a typed error that names the problem.

mod common;

use notecoder::Error;

fn with(i: usize, bytes: Vec<u8>) -> [Vec<u8>; 4] {
    let mut f = common::model_bytes();
    f[i] = bytes;
    f
}

fn load_err(files: [Vec<u8>; 4]) -> Error {
    common::load(&files).expect_err("a broken model folder must not load")
}

#[test]
fn the_shipped_model_loads_and_matches_its_codebook() {
    let coder = common::load(&common::model_bytes()).unwrap();
    assert_eq!(coder.codebook().len(), 10);
    assert_eq!(coder.codebook().codes[0].id, "interacted.police");
}

#[test]
fn a_codebook_of_another_length_is_refused_naming_both_counts() {
    let mut book: serde_json::Value = serde_json::from_slice(&common::model_bytes()[1]).unwrap();
    book["codes"].as_array_mut().unwrap().pop();
    let e = load_err(with(1, serde_json::to_vec(&book).unwrap()));
    assert!(
        matches!(
            e,
            Error::CodeCountMismatch {
                model: 10,
                codebook: 9
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "model outputs 10 scores per segment but the codebook has 9 codes"
    );
}

#[test]
fn broken_model_bytes_are_refused() {
    let model = &common::model_bytes()[3];
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "empty"),
        (
            b"<!DOCTYPE html><html><body>404 Not Found</body></html>".to_vec(),
            "HTML",
        ),
        (
            model[..model.len() / 3].to_vec(),
            "not a readable ONNX model",
        ),
        (b"\x08\x01garbage that is not protobuf".to_vec(), "model:"),
    ];
    for (bytes, want) in cases {
        let e = load_err(with(3, bytes));
        assert!(matches!(e, Error::Model(_)), "{e:?}");
        assert!(e.to_string().contains(want), "{e}");
    }
}

#[test]
fn a_model_whose_table_is_smaller_than_the_vocabulary_is_refused() {
    // Found by the model_files fuzz target: tract's Gather does not check indices, so ids past the table read
    // another row or panic. The fixture (fuzz/make_seeds.py, written with the Python onnx package) has the
    // shipped graph's form with 64 table rows against the shipped config's vocab_size of 30522.
    let small = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/model-64-rows.onnx"),
    )
    .unwrap();
    let e = load_err(with(3, small));
    assert!(matches!(e, Error::Model(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "model: its embedding table has 64 rows but config.json's vocab_size is 30522: token ids from 64 on \
         would fall outside it"
    );
}

#[test]
fn a_tokenizer_that_cannot_encode_is_refused_at_load() {
    // Found by the model_files fuzz target: a post-processor template naming a special token that the
    // tokenizer does not define loads, then panics inside the tokenizers library on every text.
    let mut tok: serde_json::Value = serde_json::from_slice(&common::model_bytes()[2]).unwrap();
    tok["post_processor"]["special_tokens"]
        .as_object_mut()
        .unwrap()
        .remove("[SEP]");
    let e = load_err(with(2, serde_json::to_vec(&tok).unwrap()));
    assert!(matches!(e, Error::Tokenizer(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "tokenizer: it loads but cannot encode a test sentence (tokenizer: the tokenizers library panicked \
         while encoding (a malformed tokenizer.json or a bug))"
    );
}

#[test]
fn a_tokenizer_json_that_panics_the_library_is_refused() {
    // Found by the model_files fuzz target: `tokenizers` panics (an `expect`) on a decoder that is not JSON.
    let e = load_err(with(2, br#"{"decoder": x}"#.to_vec()));
    assert!(matches!(e, Error::Tokenizer(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "tokenizer: not a valid tokenizer.json (14 bytes): the tokenizers library panicked reading it"
    );
}

#[test]
fn broken_json_files_are_refused_with_their_kind() {
    assert!(matches!(
        load_err(with(0, b"{}".to_vec())),
        Error::Config(_)
    ));
    assert!(matches!(
        load_err(with(1, b"[1,2]".to_vec())),
        Error::Codebook(_)
    ));
    assert!(matches!(
        load_err(with(2, b"not json".to_vec())),
        Error::Tokenizer(_)
    ));
    let mut cfg: serde_json::Value = serde_json::from_slice(&common::model_bytes()[0]).unwrap();
    cfg["vocab_size"] = 100.into();
    let e = load_err(with(0, serde_json::to_vec(&cfg).unwrap()));
    assert!(e.to_string().contains("embeds only 100"), "{e}");
}
