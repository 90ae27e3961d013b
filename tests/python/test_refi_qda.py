"""REFI-QDA exchange checked by independent readers: the exported codebook validates against the standard's
Codebook.xsd (with the `xmlschema` package); the exported project is read back with the standard library and
with `qdpxlib`, every coding on its text.

    python -m unittest discover tests/python      (scripts/test.sh runs it with the pinned .venv-training)

NOTECODER_BIN names the binary to test (default: target/debug/notecoder, which `cargo test` builds).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import xmlschema

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("NOTECODER_BIN", ROOT / "target" / "debug" / "notecoder"))
XSD = ROOT / "tests" / "fixtures" / "refi-qda" / "Codebook.xsd"


def notecoder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), *args], check=True, capture_output=True, text=True)


class CodebookExport(unittest.TestCase):
    def test_exported_codebook_validates_against_the_refi_qda_schema(self):
        schema = xmlschema.XMLSchema(str(XSD))
        xml = notecoder("export-codebook", "--format", "qdc").stdout
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "coresponse.qdc"
            path.write_text(xml, encoding="utf-8")
            schema.validate(str(path))  # raises with the offending element on any violation
            doc = schema.to_dict(str(path))
        domains = doc["Codes"]["Code"]
        self.assertEqual([d["@isCodable"] for d in domains], [False, False, False])
        codes = [c for d in domains for c in d["Code"]]
        self.assertEqual(len(codes), 10)
        self.assertTrue(all(c["@isCodable"] and c["@color"].startswith("#") and c["Description"] for c in codes))
        self.assertEqual(len({c["@guid"] for c in codes} | {d["@guid"] for d in domains}), 13)

    def test_a_broken_document_fails_validation(self):
        # The check above can fail: a codebook without the required isCodable attribute does not validate.
        schema = xmlschema.XMLSchema(str(XSD))
        bad = ('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
               '<Code guid="11111111-1111-1111-1111-111111111111" name="x"/></Codes></CodeBook>')
        self.assertFalse(schema.is_valid(bad))


if __name__ == "__main__":
    unittest.main()


class ProjectExport(unittest.TestCase):
    """`notecoder code --qdpx`: a REFI-QDA project that independent readers load with every coding on its text."""

    NOTES = {
        # ASCII only: byte offsets and code points agree, so qdpxlib (which reads positions as bytes) must agree.
        "ascii-note": "Spoke w/ ofcs on scene. Pt denied SI/HI.\nMother reports pt has not slept in 3 days.",
        # Emoji (astral, ZWJ) and accents before the evidence: positions must count code points.
        "emoji-note": "\U0001F469\u200D\U0001F467 Caf\u00e9 r\u00e9sum\u00e9 visit.\nPt denied SI/HI. Called EMS for transport.",
    }

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = Path(cls.tmp.name)
        (d / "notes").mkdir()
        for name, text in cls.NOTES.items():
            (d / "notes" / f"{name}.txt").write_text(text, encoding="utf-8")
        cls.qdpx = d / "coded.qdpx"
        notecoder("code", str(d / "notes"), "--qdpx", str(cls.qdpx), "--jsonl", str(d / "coded.jsonl"))
        cls.rows = [json.loads(l) for l in (d / "coded.jsonl").read_text(encoding="utf-8").splitlines()]
        cls.labels = {c["id"]: c["label"] for c in json.loads((ROOT / "models" / "coresponse-v1" / "codebook.json").read_text())["codes"]}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_coding_lands_on_its_text_counting_code_points(self):
        # Read with the standard library alone: positions are code points, end exclusive.
        ns = {"q": "urn:QDA-XML:project:1.0"}
        with zipfile.ZipFile(self.qdpx) as z:
            root = ET.fromstring(z.read("project.qde"))
            names = {c.get("guid"): c.get("name") for c in root.iter("{urn:QDA-XML:project:1.0}Code")}
            got = set()
            for src in root.iterfind(".//q:TextSource", ns):
                text = z.read(src.get("plainTextPath").replace("internal://", "sources/")).decode("utf-8")
                self.assertEqual(text, self.NOTES[src.get("name")])
                for sel in src.iterfind("q:PlainTextSelection", ns):
                    s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
                    for ref in sel.iterfind(".//q:CodeRef", ns):
                        got.add((src.get("name"), text[s:e], names[ref.get("targetGUID")]))
        want = {(r["note_id"], r["text"], self.labels[r["code"]]) for r in self.rows}
        self.assertEqual(got, want)
        self.assertIn(("emoji-note", "Pt denied SI/HI.", self.labels["assessed.risk"]), got)

    def test_import_project_reads_back_what_code_wrote(self):
        # Round trip: the exported project, imported with the shipped codebook, labels each unit with exactly the
        # codes `code` suggested for it.
        out = Path(self.tmp.name) / "roundtrip.jsonl"
        book = ROOT / "models" / "coresponse-v1" / "codebook.json"
        notecoder("import-project", str(self.qdpx), "--codebook", str(book), "--out", str(out))
        got = set()
        for note in map(json.loads, out.read_text(encoding="utf-8").splitlines()):
            self.assertEqual(note["text"], self.NOTES[note["id"]])
            for seg in note["segments"]:
                got.update((note["id"], note["text"][seg["start"]:seg["end"]], c) for c in seg["codes"])
        self.assertEqual(got, {(r["note_id"], r["text"], r["code"]) for r in self.rows})

    def test_qdpxlib_reads_the_project(self):
        from qdpxlib import QDPXFile

        project = QDPXFile(str(self.qdpx), filter_std=None)
        self.assertEqual(set(project.codes.values()) >= set(self.labels.values()), True)
        by_source = {}
        for source, text, _, (s, e), labels in project.codings:
            if labels:
                by_source.setdefault(source, set()).update((text, l) for l in labels)
        ascii_rows = {(r["text"], self.labels[r["code"]]) for r in self.rows if r["note_id"] == "ascii-note"}
        # qdpxlib splits codings into sentences of at least 10 characters, all of ours are such sentences.
        self.assertTrue(any(v == ascii_rows for v in by_source.values()), f"{by_source} vs {ascii_rows}")
