"""Build and check the labeled corpus.

Source files (`corpus/src/*.jsonl`) are written by hand, one note a line:

    {"id": "a-001", "hand": "a", "style": "shorthand", "scenario": "suicidality",
     "text": "Met w/ ofcs on scene. Pt denied SI/HI.",
     "units": [["Met w/ ofcs on scene.", ["interacted.police"]],
               ["Pt denied SI/HI.", ["assessed.risk"]]]}

Each unit is an exact substring of `text`; units appear in order and do not
overlap. `build` finds them and writes `corpus/notes.jsonl` in the labeled-note
form of `shared/framework.md`: segments with `start`/`end` offsets in Unicode
scalar values (Python `str` indices, end exclusive) and the note's `codes`, the
sorted union of its segments' codes.

    python training/corpus.py check corpus/src/a.jsonl   # validate one source file
    python training/corpus.py build                      # all sources -> corpus/{train,dev,test}.jsonl

Splits are by note. The test split is every note of the hands in TEST_HANDS, written by other hands with a
different style brief (`corpus/briefs/`); it is never used for any choice. Of the other notes, those whose
CRC-32 of the id is divisible by 5 form the dev split (about 20%), the rest train.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zlib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODES = [
    "interacted.police",
    "interacted.individual",
    "interacted.family",
    "interacted.provider",
    "assessed.symptoms",
    "assessed.history",
    "assessed.risk",
    "provided.clinical",
    "provided.police",
    "provided.general",
]
TEST_HANDS = {"f", "m", "n"}
SPLITS = ("train", "dev", "test")


def split_of(note: dict) -> str:
    if note.get("hand") in TEST_HANDS:
        return "test"
    return "dev" if zlib.crc32(note["id"].encode()) % 5 == 0 else "train"


# Text that may stay outside every unit: whitespace, bullet or number markers, `Label:` headers.
RESIDUE_OK = re.compile(r"^(\s|[-*\u2022>#]|\d{1,2}[.)]|[A-Za-z][A-Za-z /&'()-]{0,30}:)*$")


def locate(note: dict) -> list[dict]:
    """Return the note's segments ({start, end, codes}) or raise ValueError naming the problem."""
    text = note["text"]
    pos = 0
    segments = []
    for i, unit in enumerate(note["units"]):
        if not (isinstance(unit, list) and len(unit) == 2 and isinstance(unit[0], str)):
            raise ValueError(f"unit {i} is not [text, [codes]]")
        utext, codes = unit
        utext_stripped = utext.strip()
        if not utext_stripped:
            raise ValueError(f"unit {i} is empty")
        start = text.find(utext_stripped, pos)
        if start < 0:
            raise ValueError(f"unit {i} not found in order: {utext_stripped[:60]!r}")
        gap = text[pos:start]
        if not RESIDUE_OK.match(gap):
            raise ValueError(f"text before unit {i} is in no unit: {gap.strip()[:60]!r}")
        bad = [c for c in codes if c not in CODES]
        if bad:
            raise ValueError(f"unit {i} has unknown codes {bad}")
        if len(set(codes)) != len(codes):
            raise ValueError(f"unit {i} repeats a code")
        end = start + len(utext_stripped)
        segments.append({"start": start, "end": end, "codes": sorted(codes)})
        pos = end
    tail = text[pos:]
    if not RESIDUE_OK.match(tail):
        raise ValueError(f"text after the last unit is in no unit: {tail.strip()[:60]!r}")
    return segments


def load_sources(paths: list[Path]) -> tuple[list[dict], list[str]]:
    notes, errors = [], []
    seen = set()
    for path in paths:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{lineno}"
            try:
                note = json.loads(line)
                for key in ("id", "text", "units"):
                    if key not in note:
                        raise ValueError(f"missing key {key!r}")
                if note["id"] in seen:
                    raise ValueError(f"duplicate id {note['id']}")
                seen.add(note["id"])
                segments = locate(note)
            except (ValueError, json.JSONDecodeError) as e:
                errors.append(f"{where}: {e}")
                continue
            out = {
                "id": note["id"],
                "text": note["text"],
                "segments": segments,
                "codes": sorted({c for s in segments for c in s["codes"]}),
            }
            for key in ("hand", "style", "scenario"):
                if key in note:
                    out[key] = note[key]
            notes.append(out)
    return notes, errors


def summary(notes: list[dict]) -> str:
    seg_counts, note_counts = Counter(), Counter()
    nseg = empty = 0
    for n in notes:
        for s in n["segments"]:
            nseg += 1
            empty += not s["codes"]
            seg_counts.update(s["codes"])
        note_counts.update(n["codes"])
    lines = [f"{len(notes)} notes, {nseg} segments, {empty} with no code ({100 * empty / max(nseg, 1):.0f}%)"]
    lines.append(f"{'code':24} {'segments':>8} {'notes':>6}")
    for c in CODES:
        lines.append(f"{c:24} {seg_counts[c]:8} {note_counts[c]:6}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="validate source files and print counts")
    c.add_argument("files", nargs="+", type=Path)
    b = sub.add_parser("build", help="build corpus/{train,dev,test}.jsonl from corpus/src/*.jsonl")
    b.add_argument("--out", type=Path, default=ROOT / "corpus")
    args = ap.parse_args()
    paths = args.files if args.cmd == "check" else sorted((ROOT / "corpus" / "src").glob("*.jsonl"))
    notes, errors = load_sources(paths)
    for e in errors:
        print("error:", e, file=sys.stderr)
    print(summary(notes))
    if args.cmd == "build" and not errors:
        for split in SPLITS:
            part = [n for n in notes if split_of(n) == split]
            path = args.out / f"{split}.jsonl"
            with open(path, "w", encoding="utf-8") as f:
                for n in part:
                    f.write(json.dumps(n, ensure_ascii=False) + "\n")
            print(f"wrote {path}: {len(part)} notes")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
