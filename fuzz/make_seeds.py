"""Writes the fuzzers' seed inputs into fuzz/seeds/<target>/ (committed; re-run after the corpus or model change).

    .venv-training/bin/python fuzz/make_seeds.py

Text targets (segment, tokenize, suggest): 40 training notes (never test notes) and strings that have broken
offset code before: astral emoji and ZWJ sequences, combining accents, RTL, NBSP and zero-width characters, CRLF
and lone CR, bullets, a long unpunctuated run. model_files: a selector byte (0 model.onnx, 1 config.json,
2 codebook.json, 3 tokenizer.json) then a valid file of that kind: a 10-code model with a 64-token table in
the shipped graph's form, the shipped model, the base config (fuzz/base/config.json, 16-token windows over a
20-id vocabulary), the shipped codebook, and a 20-token WordPiece tokenizer (fuzz/base/tokenizer.json).
The 64-row model is also tests/fixtures/model-64-rows.onnx.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "fuzz" / "seeds"
sys.path.insert(0, str(ROOT / "training"))

TRICKY = [
    "",
    " ",
    "...",
    "SI",
    "Pt \U0001F642 denied SI/HI. Met w/ ofcs.",
    "Family \U0001F468\u200D\U0001F469\u200D\U0001F467 present.\u200B Mother reports pt off meds.",
    "Caf\u00e9 vs cafe\u0301. Zo\u00eb refused. \ufb01le reviewed.",
    "\u05d4\u05de\u05d8\u05d5\u05e4\u05dc \u05e1\u05d9\u05e8\u05d1. Pt denied SI. \u0645\u0631\u062d\u0628\u0627.",
    "Presentation:\r\nPt calm.\r\nDispo:\rhome w/ mother\n- f/u tmrw\n\u2022 called 988",
    "Pt\u00a0denied\u00a0HI.\t\tOfc  Smith   present.\u2060 Sec 12 placed.",
    "a." * 40,
    "no punctuation at all just words that go on " * 30,
    "<p>Met w/ ofcs.</p><script>alert(1)</script> Pt denied SI/HI.",
    "\U0001F1FA\U0001F1F8\U0001F1EC\U0001F1E7. 1. 2) 3.",
]


def write(target: str, items: list[bytes]) -> None:
    d = SEEDS / target
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    for i, b in enumerate(items):
        (d / f"seed-{i:03d}").write_bytes(b)


def tiny_tokenizer() -> bytes:
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "pt", "denied", "si", "hi", "met", "w", "/", ".", "of", "##cs",
             "mother", "called", "police", "on", "scene", ","]
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [
            {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
             "special": True} for i, t in enumerate(vocab[:4])],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                           "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                              "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": None,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(vocab)}},
    }
    return json.dumps(tok).encode()


def tiny_model(path: Path) -> bytes:
    import train
    rng = np.random.default_rng(7)
    q = rng.integers(-127, 128, size=(64, 10)).astype(np.int8)
    q[0] = 0
    train.NAME = "tiny"
    # The shipped graph's form with 48 token ids and 16 bigram buckets: a 64-column table.
    train.export_onnx(q, np.full(10, 0.01), np.zeros(10), 48, path, buckets=16)
    return path.read_bytes()


def main() -> None:
    notes = [json.loads(l) for l in (ROOT / "corpus" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = [n["text"] for n in notes[::max(1, len(notes) // 40)][:40]] + TRICKY
    for t in ["segment", "tokenize", "suggest"]:
        write(t, [s.encode("utf-8") for s in texts])
    shipped = ROOT / "models" / "coresponse-v1"
    tmp = SEEDS / "tiny.onnx"
    SEEDS.mkdir(parents=True, exist_ok=True)
    model = tiny_model(tmp)
    tmp.unlink()
    # Also a test fixture: a model whose table (64 rows) is smaller than the shipped vocab_size (tests/model_files.rs).
    (ROOT / "tests" / "fixtures" / "model-64-rows.onnx").write_bytes(model)
    # model_files' base folder: the tiny tokenizer and a config for its 20 ids (loading the shipped 700 KB
    # tokenizer on every run would make the target 10x slower), the shipped codebook and model.
    base = ROOT / "fuzz" / "base"
    base.mkdir(exist_ok=True)
    config = {"format": 1, "name": "fuzz-base", "max_tokens": 16, "window_overlap": 4, "vocab_size": 20,
              "add_special_tokens": True}
    (base / "config.json").write_text(json.dumps(config) + "\n", encoding="utf-8")
    (base / "tokenizer.json").write_bytes(tiny_tokenizer())
    write("model_files", [b"\x00" + model, b"\x00" + (shipped / "model.onnx").read_bytes(),
                          b"\x01" + (base / "config.json").read_bytes(),
                          b"\x02" + (shipped / "codebook.json").read_bytes(), b"\x03" + tiny_tokenizer()])
    print(f"seeds: {len(texts)} texts per text target, {len(list((SEEDS / 'model_files').iterdir()))} model-file "
          f"inputs in {SEEDS}; also wrote fuzz/base/ and tests/fixtures/model-64-rows.onnx")


if __name__ == "__main__":
    main()
