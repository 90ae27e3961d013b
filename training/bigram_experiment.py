"""Dev-only experiment (session 3): does adding hashed WordPiece bigrams to the bag of tokens help segment-level
macro-F1 on the full corpus? Every threshold at 0.5, no synthetic negatives, no calibration; test is not read.

    .venv-training/bin/python training/bigram_experiment.py     (about 10 minutes on 2 cores)
"""
import sys, json, zlib
from pathlib import Path
import numpy as np
from scipy.sparse import csr_matrix, hstack
sys.path.insert(0, str(Path(__file__).resolve().parent))
import train as T

ROOT = Path(__file__).resolve().parents[1]
book = json.loads((ROOT / "training/codebook.json").read_text())
codes = [c["id"] for c in book["codes"]]
tr = T.load(ROOT / "corpus/train.jsonl"); dv = T.load(ROOT / "corpus/dev.jsonl")
for n in tr + dv: n.setdefault("codes", sorted({c for s in n["segments"] for c in s["codes"]}))
box = []; tok = T.make_tokenizer(box); V = box[0]

def feats(texts, H, ctx=None):
    rows, cols, vals = [], [], []
    for i, t in enumerate(texts):
        ids = T.windows(tok, t)[0] if T.windows(tok, t) else [0]
        n = len(ids)
        for tid in ids:
            rows.append(i); cols.append(tid); vals.append(1.0 / n)
        if H:
            for a, b in zip(ids, ids[1:]):
                rows.append(i); cols.append(V + (a * 1000003 + b) % H); vals.append(1.0 / n)
    return csr_matrix((vals, (rows, cols)), shape=(len(texts), V + H))

def run(H, C):
    tt, tl, _ = T.segments(tr); dt, dl, dnote = T.segments(dv)
    xt, xd = feats(tt, H), feats(dt, H)
    yt = np.array([[int(c in l) for c in codes] for l in tl]); yd = np.array([[int(c in l) for c in codes] for l in dl])
    w, b = T.fit(xt, yt, C)
    p = T.sigmoid(xd @ w + b)
    f1s = []
    for k in range(len(codes)):
        pr = p[:, k] >= 0.5; g = yd[:, k] == 1
        tp = (pr & g).sum(); fp = (pr & ~g).sum(); fn = (~pr & g).sum()
        f1s.append(2 * tp / max(1, 2 * tp + fp + fn))
    return np.mean(f1s)

for H in [0, 1 << 14, 1 << 16]:
    for C in [300.0, 1000.0, 3000.0]:
        print(H, C, round(run(H, C), 4), flush=True)
