"""Native throughput: `notecoder classify` against Python onnxruntime running the same model on the same token ids.

    python bench/native.py [--notes 10000] [--cli target/release/notecoder]

Run by `scripts/bench.sh` with the pinned training virtualenv (onnxruntime, tokenizers). Prints a Markdown table.

- The input is `--notes` notes made by cycling through every corpus note (`corpus/{train,dev,test}.jsonl`), each
  with its own id; about 640 characters on average (printed).
- notecoder: wall time of one `notecoder classify` process over the whole file (read JSONL, segment, tokenize,
  run the model, write JSONL): the whole pipeline, with `--jobs 1` (one thread) and `--jobs 0` (one per core).
- tract alone: the `run_ids` example runs notecoder's model call on exactly the batches given to onnxruntime
  (written to a file), one thread, timed the same way.
- onnxruntime: the same segments (from `notecoder segment`) tokenized into the same windows with the Python
  `tokenizers` binding (the parity test holds them equal to ours), then one `session.run` per note on that note's
  windows padded into one batch, exactly as notecoder batches them. Only the `run` calls are timed (tokenizing
  is reported apart), with one intra-op thread and with the default (all cores). Both sides are given the
  best of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "coresponse-v1"
BATCH = 32  # src/suggest.rs: windows per model call


def windows(tok: Tokenizer, cfg: dict, text: str) -> list[list[int]]:
    enc = tok.encode(text, add_special_tokens=cfg["add_special_tokens"])
    return [w for w in [enc.ids] + [o.ids for o in enc.overflowing] if w]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cli", type=Path, default=ROOT / "target" / "release" / "notecoder")
    ap.add_argument("--run-ids", type=Path, default=ROOT / "target" / "release" / "examples" / "run_ids",
                    help="the run_ids example (tract on the same batches)")
    a = ap.parse_args()

    corpus = []
    for split in ("train", "dev", "test"):
        corpus += [json.loads(l)["text"] for l in (ROOT / "corpus" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines() if l]
    notes = [{"id": f"n{i}", "text": corpus[i % len(corpus)]} for i in range(a.notes)]
    chars = sum(len(n["text"]) for n in notes)

    with tempfile.TemporaryDirectory() as d:
        inp = Path(d) / "notes.jsonl"
        inp.write_text("".join(json.dumps(n) + "\n" for n in notes), encoding="utf-8")
        cli_s, cli_all_s = [], []
        for _ in range(a.repeat):
            for jobs, times in (("1", cli_s), ("0", cli_all_s)):
                t = time.perf_counter()
                subprocess.run([str(a.cli), "classify", "--jobs", jobs, "--model", str(MODEL), str(inp)], check=True,
                               stdout=subprocess.DEVNULL)
                times.append(time.perf_counter() - t)
        seg = subprocess.run([str(a.cli), "segment", "--model", str(MODEL), str(inp)], check=True, capture_output=True, text=True).stdout

    cfg = json.loads((MODEL / "config.json").read_text())
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=cfg["max_tokens"], stride=cfg["window_overlap"], strategy="longest_first")
    t = time.perf_counter()
    batches = []
    for note, line in zip(notes, seg.splitlines()):
        spans = json.loads(line)["segments"]
        ws = [w for s in spans for w in windows(tok, cfg, note["text"][s["start"]:s["end"]])]
        for i in range(0, len(ws), BATCH):
            chunk = ws[i:i + BATCH]
            seq = max(map(len, chunk))
            ids = np.zeros((len(chunk), seq), dtype=np.int64)
            mask = np.zeros((len(chunk), seq), dtype=np.int64)
            for r, w in enumerate(chunk):
                ids[r, :len(w)] = w
                mask[r, :len(w)] = 1
            batches.append((ids, mask))
    tokenize_s = time.perf_counter() - t
    windows_n = sum(b[0].shape[0] for b in batches)

    def ort_time(threads: int) -> float:
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(MODEL / "model.onnx"), so, providers=["CPUExecutionProvider"])
        sess.run(["logits"], {"input_ids": batches[0][0], "attention_mask": batches[0][1]})
        best = float("inf")
        for _ in range(a.repeat):
            t = time.perf_counter()
            for ids, mask in batches:
                sess.run(["logits"], {"input_ids": ids, "attention_mask": mask})
            best = min(best, time.perf_counter() - t)
        return best

    ort1, ort_all = ort_time(1), ort_time(0)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "batches.bin"
        with path.open("wb") as f:
            for ids, mask in batches:
                f.write(np.array(ids.shape, dtype="<u4").tobytes())
                f.write(ids.astype("<i8").tobytes())
                f.write(mask.astype("<i8").tobytes())
        tract1 = float(subprocess.run([str(a.run_ids), str(path), str(a.repeat), str(MODEL)], check=True,
                                      capture_output=True, text=True).stdout)
    cli, cli_all = min(cli_s), min(cli_all_s)
    rate = lambda s: a.notes / s
    print(f"native throughput, {a.notes:,} notes ({chars / a.notes:,.0f} chars on average, {windows_n:,} token windows), "
          f"{platform.machine()}, {os.cpu_count()} cores, onnxruntime {ort.__version__}, best of {a.repeat}")
    print()
    print(f"| what | seconds | notes/s | `classify` 1 thread ÷ this | `classify` {os.cpu_count()} threads ÷ this |")
    print("|---|---:|---:|---:|---:|")
    rows = [
        ("`notecoder classify --jobs 1` (whole pipeline, 1 thread)", cli),
        (f"`notecoder classify --jobs 0` (whole pipeline, {os.cpu_count()} threads)", cli_all),
        ("onnxruntime `run` only, 1 thread", ort1),
        ("onnxruntime `run` only, default threads", ort_all),
        ("Python `tokenizers` + onnxruntime 1 thread (no segmenting, no JSON)", tokenize_s + ort1),
    ]
    for what, secs in rows:
        print(f"| {what} | {secs:.2f} | {rate(secs):,.0f} | {rate(cli) / rate(secs):.2f} | {rate(cli_all) / rate(secs):.2f} |")
    print()
    print("Model alone on the same batches, 1 thread (the `run_ids` example against onnxruntime `run`):")
    print()
    print("| runtime | seconds | notes/s | tract ÷ onnxruntime (notes/s) |")
    print("|---|---:|---:|---:|")
    print(f"| tract (notecoder, Rust) | {tract1:.3f} | {rate(tract1):,.0f} | {ort1 / tract1:.2f} |")
    print(f"| onnxruntime (Python) | {ort1:.3f} | {rate(ort1):,.0f} | 1.00 |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
