"""Inter-coder agreement: Cohen's kappa per code between the writers' own coding (first coder) and a blind
second coding of a sample of notes (corpus/agreement/second-coder-*.jsonl), unit by unit.

    python training/agreement.py

Each unit and code is one binary decision per coder. kappa = (p_o - p_e) / (1 - p_e), with p_o the observed
agreement and p_e the agreement expected from each coder's own rate of using the code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))
from corpus import CODES  # noqa: E402


def kappa(a: list[bool], b: list[bool]) -> float:
    n = len(a)
    po = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)


def main() -> int:
    first = {}
    for split in ("train", "dev", "test"):
        for line in (ROOT / "corpus" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            n = json.loads(line)
            first[n["id"]] = n
    units_a, units_b, notes = [], [], 0
    for path in sorted((ROOT / "corpus" / "agreement").glob("second-coder-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            second = json.loads(line)
            n = first[second["id"]]
            assert len(n["segments"]) == len(second["units"]), second["id"]
            notes += 1
            for seg, (text, codes) in zip(n["segments"], second["units"]):
                assert n["text"][seg["start"]:seg["end"]] == text, second["id"]
                units_a.append(set(seg["codes"]))
                units_b.append(set(codes))
    print(f"{notes} notes, {len(units_a)} units coded twice")
    print(f"{'code':24} {'kappa':>6} {'agree':>6} {'first':>6} {'second':>6}")
    ks = []
    for c in CODES:
        a = [c in u for u in units_a]
        b = [c in u for u in units_b]
        k = kappa(a, b)
        ks.append(k)
        agree = sum(x == y for x, y in zip(a, b)) / len(a)
        print(f"{c:24} {k:6.3f} {agree:6.3f} {sum(a):6d} {sum(b):6d}")
    print(f"{'mean':24} {sum(ks) / len(ks):6.3f}")
    exact = sum(a == b for a, b in zip(units_a, units_b)) / len(units_a)
    print(f"units with identical code sets: {exact:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
