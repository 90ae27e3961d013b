"""Your own codebook, end to end: the documented training command on invented notes for a three-code codebook
(tests/fixtures/own-codebook/) writes a model folder that the CLI runs with no code change, and reproduces the
committed example folder (models/example-school-nurse/) byte for byte.

    python -m unittest discover tests/python      (scripts/test.sh runs it with the pinned .venv-training)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("NOTECODER_BIN", ROOT / "target" / "debug" / "notecoder"))
FIXTURE = ROOT / "tests" / "fixtures" / "own-codebook"
EXAMPLE = ROOT / "models" / "example-school-nurse"
FILES = ["config.json", "codebook.json", "tokenizer.json", "model.onnx", "training.json"]

# Hand-labeled under the fixture codebook's rules; not in the training notes.
HELD_OUT = [
    ("Fell on the playground and scraped her knee.", {"visit.injury"}),
    ("Called her dad, no answer.", {"visit.parent"}),
    ("Complains of a headache and feels hot.", {"visit.illness"}),
    ("Returned to class.", set()),
]


class OwnCodebook(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.out = Path(cls.tmp.name) / "example-school-nurse"
        subprocess.run(
            [sys.executable, str(ROOT / "training" / "train.py"), "--codebook", str(FIXTURE / "codebook.json"),
             "--train", str(FIXTURE / "notes.jsonl"), "--out", str(cls.out)],
            check=True, capture_output=True, text=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_the_command_reproduces_the_committed_example_folder(self):
        for f in FILES:
            self.assertEqual((self.out / f).read_bytes(), (EXAMPLE / f).read_bytes(), f)

    def test_the_cli_codes_held_out_sentences_with_the_new_codebook(self):
        notes = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, (t, _) in enumerate(HELD_OUT))
        run = subprocess.run([str(BIN), "classify", "--model", str(self.out), "-"], input=notes,
                             check=True, capture_output=True, text=True)
        for line, (text, expected) in zip(run.stdout.splitlines(), HELD_OUT):
            rec = json.loads(line)
            self.assertEqual([c["id"] for c in rec["codes"]], ["visit.injury", "visit.illness", "visit.parent"])
            got = {c["id"] for c in rec["codes"] if c["suggested"]}
            self.assertEqual(got, expected, text)

    def test_eval_and_export_work_on_the_new_model_folder(self):
        ev = subprocess.run([str(BIN), "eval", "--model", str(self.out), "--gold", str(FIXTURE / "notes.jsonl"), "--json"],
                            check=True, capture_output=True, text=True)
        rows = json.loads(ev.stdout)["note_level"]
        self.assertEqual([r["code"] for r in rows if r["code"].startswith("visit.")],
                         ["visit.injury", "visit.illness", "visit.parent"])
        qdc = subprocess.run([str(BIN), "export-codebook", "--model", str(self.out)], check=True, capture_output=True,
                             text=True).stdout
        self.assertEqual(qdc.count('isCodable="true"'), 3)

    def test_a_code_outside_the_codebook_is_refused_with_the_note_named(self):
        with tempfile.TemporaryDirectory() as d:
            bad = Path(d) / "bad.jsonl"
            bad.write_text(json.dumps({"id": "x1", "text": "Cut on hand.", "segments": [
                {"start": 0, "end": 12, "codes": ["visit.bruise"]}]}) + "\n", encoding="utf-8")
            run = subprocess.run([sys.executable, str(ROOT / "training" / "train.py"), "--codebook",
                                  str(FIXTURE / "codebook.json"), "--train", str(bad), "--out", str(Path(d) / "m")],
                                 capture_output=True, text=True)
            self.assertNotEqual(run.returncode, 0)
            self.assertIn("note x1: code 'visit.bruise' is not in the codebook", run.stderr)


if __name__ == "__main__":
    unittest.main()
