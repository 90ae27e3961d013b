"""REFI-QDA exchange checked by independent readers: the exported codebook validates against the standard's
Codebook.xsd (with the `xmlschema` package).

    python -m unittest discover tests/python      (scripts/test.sh runs it with the pinned .venv-training)

NOTECODER_BIN names the binary to test (default: target/debug/notecoder, which `cargo test` builds).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import unittest
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
