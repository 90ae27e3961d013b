"""Training from a REFI-QDA project: a .qdpx written here the way a QDA tool writes one (standard library XML and
zip, not notecoder's writer; random-looking GUIDs, a non-codable parent code, codes named by label, text in
sources/ and inline, selections that are phrases inside a sentence, that run over several sentences, or that
spill a character into the next sentence) goes through `notecoder import-project` and `training/train.py`.

- The labeled units it yields are exactly the hand labels of tests/fixtures/own-codebook/notes.jsonl, and
  `train.py --train project.qdpx` rebuilds models/example-school-nurse/ byte for byte.
- Positions are code points, end exclusive: checked on a note with emoji and combining accents.
- Broken projects fail with a message that names the problem and not the note's text.

    python -m unittest discover tests/python      (scripts/test.sh runs it with the pinned .venv-training)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("NOTECODER_BIN", ROOT / "target" / "debug" / "notecoder"))
FIXTURE = ROOT / "tests" / "fixtures" / "own-codebook"
EXAMPLE = ROOT / "models" / "example-school-nurse"
NS = "urn:QDA-XML:project:1.0"
# Labels of the fixture codebook, as a QDA user would name the codes (ids come from elsewhere).
LABELS = {"visit.injury": "Injury", "visit.illness": "Illness symptoms", "visit.parent": "Parent contact"}


def gid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "qdpx-test/" + "/".join(parts))).upper()


def write_project(path: Path, sources: list[dict], extra_code: bool = True) -> None:
    """sources: [{"name", "text", "selections": [(start, end, [label, ...])], "inline": bool}] -> .qdpx"""
    ET.register_namespace("", NS)
    project = ET.Element(f"{{{NS}}}Project", {"name": "School nurse", "origin": "Hand-made QDA 1.0"})
    users = ET.SubElement(project, f"{{{NS}}}Users")
    ET.SubElement(users, f"{{{NS}}}User", {"guid": gid("user"), "name": "coder"})
    codes = ET.SubElement(ET.SubElement(project, f"{{{NS}}}CodeBook"), f"{{{NS}}}Codes")
    visit = ET.SubElement(codes, f"{{{NS}}}Code", {"guid": gid("code", "Visit"), "name": "Visit",
                                                   "isCodable": "false"})
    for label in LABELS.values():
        ET.SubElement(visit, f"{{{NS}}}Code", {"guid": gid("code", label), "name": label, "isCodable": "true",
                                               "color": "#336699"})
    if extra_code:  # codable, never used: must not disturb a mapping onto a codebook that lacks it
        ET.SubElement(visit, f"{{{NS}}}Code", {"guid": gid("code", "Memo"), "name": "Memo", "isCodable": "true"})
    srcs = ET.SubElement(project, f"{{{NS}}}Sources")
    files = {}
    for s in sources:
        g = gid("source", s["name"])
        attrs = {"guid": g, "name": s["name"]}
        if not s.get("inline"):
            attrs["plainTextPath"] = f"internal://{g}.txt"
            files[f"sources/{g}.txt"] = s["text"]
        el = ET.SubElement(srcs, f"{{{NS}}}TextSource", attrs)
        if s.get("inline"):
            ET.SubElement(el, f"{{{NS}}}PlainTextContent").text = s["text"]
        for i, (start, end, labels) in enumerate(s["selections"]):
            sel = ET.SubElement(el, f"{{{NS}}}PlainTextSelection", {
                "guid": gid("sel", s["name"], str(i)), "name": f"sel {i}",
                "startPosition": str(start), "endPosition": str(end)})
            for label in labels:
                coding = ET.SubElement(sel, f"{{{NS}}}Coding", {"guid": gid("coding", s["name"], str(i), label)})
                ET.SubElement(coding, f"{{{NS}}}CodeRef", {"targetGUID": gid("code", label)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", ET.tostring(project, encoding="utf-8", xml_declaration=True))
        for name, text in files.items():
            z.writestr(name, text.encode("utf-8"))


def selections_for(note: dict) -> list[tuple[int, int, list[str]]]:
    """The note's hand labels as a QDA user might have highlighted them: for each code, each run of consecutive
    units carrying it is one selection; a one-unit run is a phrase from its middle; a longer run starts a quarter
    into its first unit and, when another unit follows, spills one character into it."""
    segs = note["segments"]
    out = []
    for code, label in LABELS.items():
        i = 0
        while i < len(segs):
            if code not in segs[i]["codes"]:
                i += 1
                continue
            j = i
            while j + 1 < len(segs) and code in segs[j + 1]["codes"]:
                j += 1
            a, b = segs[i]["start"], segs[j]["end"]
            if i == j:
                n = b - a
                a, b = a + n // 4, b - n // 4
            else:
                a += (segs[i]["end"] - segs[i]["start"]) // 4
                if j + 1 < len(segs):
                    b = segs[j + 1]["start"] + 1
            out.append((a, b, [label]))
            i = j + 1
    return out


def notecoder(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), *args], check=check, capture_output=True, text=True)


class ProjectImport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = Path(cls.tmp.name)
        cls.notes = [json.loads(l) for l in (FIXTURE / "notes.jsonl").read_text(encoding="utf-8").splitlines()]
        sources = [{"name": n["id"], "text": n["text"], "selections": selections_for(n), "inline": i % 7 == 3}
                   for i, n in enumerate(cls.notes)]
        cls.project = cls.dir / "school-nurse.qdpx"
        write_project(cls.project, sources)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_units_get_exactly_the_hand_labels(self):
        # One fixture note has no code at all; by default such a source counts as not yet coded and is left out.
        uncoded = [n["id"] for n in self.notes if not n["codes"]]
        self.assertEqual(len(uncoded), 1)
        out = self.dir / "imported.jsonl"
        run = notecoder("import-project", str(self.project), "--codebook", str(FIXTURE / "codebook.json"),
                        "--out", str(out))
        self.assertIn("1 without any coding left out", run.stderr)
        ids = [json.loads(l)["id"] for l in out.read_text(encoding="utf-8").splitlines()]
        self.assertEqual(ids, [n["id"] for n in self.notes if n["codes"]])
        # --keep-uncoded keeps it as a note with no code: then every note and unit is as hand-labeled.
        run = notecoder("import-project", str(self.project), "--codebook", str(FIXTURE / "codebook.json"),
                        "--out", str(out), "--keep-uncoded")
        got = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
        self.assertEqual(len(got), len(self.notes))
        for want, note in zip(self.notes, got):
            self.assertEqual(note["id"], want["id"])
            self.assertEqual(note["text"], want["text"])
            units = lambda n: [(s["start"], s["end"], sorted(s["codes"])) for s in n["segments"]]  # noqa: E731
            self.assertEqual(units(note), units(want), want["id"])
            self.assertEqual(sorted(note["codes"]), sorted(want["codes"]), want["id"])
        self.assertIn("48 notes", run.stderr)

    def test_training_from_the_project_rebuilds_the_example_model_byte_for_byte(self):
        out = self.dir / "from-qdpx" / "example-school-nurse"
        env = {**os.environ, "NOTECODER_BIN": str(BIN)}
        subprocess.run([sys.executable, str(ROOT / "training" / "train.py"), "--train", str(self.project),
                        "--codebook", str(FIXTURE / "codebook.json"), "--out", str(out), "--keep-uncoded"],
                       check=True, capture_output=True, text=True, env=env)
        for f in ["config.json", "codebook.json", "tokenizer.json", "model.onnx", "training.json"]:
            self.assertEqual((out / f).read_bytes(), (EXAMPLE / f).read_bytes(), f)

    def test_without_a_codebook_the_projects_own_is_converted(self):
        book_path = self.dir / "own.codebook.json"
        notecoder("import-project", str(self.project), "--out", str(self.dir / "own.jsonl"),
                  "--codebook-out", str(book_path))
        book = json.loads(book_path.read_text(encoding="utf-8"))
        self.assertEqual([c["id"] for c in book["codes"]],
                         ["visit.injury", "visit.illness_symptoms", "visit.parent_contact", "visit.memo"])
        self.assertEqual([c["label"] for c in book["codes"]][:3], list(LABELS.values()))

    def test_positions_are_code_points_end_exclusive(self):
        # Emoji (2 UTF-16 units, 4 bytes), a decomposed accent (2 code points) and a precomposed one before the
        # coded sentences: byte or UTF-16 positions would land elsewhere.
        text = ("Zoe\u0301 \U0001F642 came in, \u00e9tourdie. She fell off the swing and hurt her wrist. "
                "Called mom \U0001F4DE at work. Back to class.")
        fell = text.index("She fell")
        wrist_end = text.index("wrist.") + len("wrist.")
        called = text.index("Called")
        project = self.dir / "unicode.qdpx"
        write_project(project, [{"name": "u-1", "text": text, "selections": [
            (fell + 4, wrist_end - 3, ["Injury"]),            # a phrase inside the sentence
            (called, text.index("Back") + 1, ["Parent contact"]),  # spills one character into the next one
        ]}], extra_code=False)
        out = self.dir / "unicode.jsonl"
        notecoder("import-project", str(project), "--codebook", str(FIXTURE / "codebook.json"), "--out", str(out))
        note = json.loads(out.read_text(encoding="utf-8"))
        coded = {text[s["start"]:s["end"]]: s["codes"] for s in note["segments"]}
        self.assertEqual(coded, {
            "Zoe\u0301 \U0001F642 came in, \u00e9tourdie.": [],
            "She fell off the swing and hurt her wrist.": ["visit.injury"],
            "Called mom \U0001F4DE at work.": ["visit.parent"],
            "Back to class.": [],
        })

    def test_broken_projects_are_refused_with_a_reason_and_no_note_text(self):
        secret = "Secret words of the note."
        bad = self.dir / "past-end.qdpx"
        write_project(bad, [{"name": "n-9", "text": secret, "selections": [(0, 400, ["Injury"])]}])
        run = notecoder("import-project", str(bad), check=False)
        self.assertEqual(run.returncode, 2)
        self.assertIn('text source "n-9", selection "sel 0": positions 0..400 are outside its 25 characters',
                      run.stderr)
        self.assertNotIn("Secret", run.stderr)

        missing = self.dir / "unknown-code.qdpx"
        write_project(missing, [{"name": "n-1", "text": secret, "selections": [(0, 6, ["Memo"])]}])
        run = notecoder("import-project", str(missing), "--codebook", str(FIXTURE / "codebook.json"), check=False)
        self.assertEqual(run.returncode, 2)
        self.assertIn("not in", run.stderr)
        self.assertIn("Memo", run.stderr)

        not_zip = self.dir / "not-a-zip.qdpx"
        not_zip.write_text("<html>404</html>", encoding="utf-8")
        run = notecoder("import-project", str(not_zip), check=False)
        self.assertEqual(run.returncode, 2)
        self.assertIn("not a zip file", run.stderr)


if __name__ == "__main__":
    unittest.main()
