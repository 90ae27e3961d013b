"""Compare model families on the dev split (never the test split).

    python training/compare.py --static DIR [--static DIR ...] [--encoder DIR]

(a) bag of word pieces + hashed word-piece bigrams -> logistic regression;
(b) distilled static embeddings (model2vec, averaged) -> logistic regression and -> MLP;
(b+a) both feature sets -> one logistic regression (the linear hybrid);
(c) the full sentence encoder (all-MiniLM-L6-v2) -> logistic regression: the ceiling.
Reported: dev segment-level and note-level macro-F1 with each code's threshold at 0.5 (class-balanced
training makes 0.5 a fair common point) and with per-code thresholds chosen by 3-fold cross-validation on train (grouped by note).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
CODES = [c["id"] for c in json.loads((ROOT / "training" / "codebook.json").read_text())["codes"]]
BIGRAM_BUCKETS = 1 << 16


def load(split):
    notes = [json.loads(l) for l in (ROOT / "corpus" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines() if l]
    texts, y, owner = [], [], []
    for i, n in enumerate(notes):
        for s in n["segments"]:
            texts.append(n["text"][s["start"]:s["end"]])
            y.append([int(c in s["codes"]) for c in CODES])
            owner.append(i)
    return notes, texts, np.array(y), np.array(owner)


def ids_of(tok, texts):
    return [tok.encode(t, add_special_tokens=False).ids[:128] for t in texts]


def bow(ids_list, vocab, bigrams=True):
    rows, cols, vals = [], [], []
    for r, ids in enumerate(ids_list):
        feats = list(ids)
        if bigrams:
            feats += [vocab + (a * 1_000_003 + b) % BIGRAM_BUCKETS for a, b in zip(ids, ids[1:])]
        for f in feats:
            rows.append(r)
            cols.append(f)
            vals.append(1.0 / max(len(feats), 1))
    return csr_matrix((vals, (rows, cols)), shape=(len(ids_list), vocab + (BIGRAM_BUCKETS if bigrams else 0)))


def static(ids_list, table):
    out = np.zeros((len(ids_list), table.shape[1]), dtype=np.float32)
    for r, ids in enumerate(ids_list):
        if ids:
            out[r] = table[ids].mean(axis=0)
    return out


def macro_f1(y, pred):
    f = []
    for k in range(y.shape[1]):
        tp = np.sum((y[:, k] == 1) & pred[:, k]); fp = np.sum((y[:, k] == 0) & pred[:, k]); fn = np.sum((y[:, k] == 1) & ~pred[:, k])
        f.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(f))


def note_level(scores, owner, notes, thresholds):
    n = len(notes)
    best = np.zeros((n, scores.shape[1]))
    for i, o in enumerate(owner):
        best[o] = np.maximum(best[o], scores[i])
    y = np.array([[int(c in nt["codes"]) for c in CODES] for nt in notes])
    return macro_f1(y, best >= thresholds)


def fit_lr(x, y, c):
    return [LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, y[:, k]) for k in range(y.shape[1])]


def proba_lr(models, x):
    return np.stack([m.predict_proba(x)[:, 1] for m in models], axis=1)


def cv_thresholds(make, x, y, owner, folds=3):
    """Per-code thresholds maximising F1 on out-of-fold train predictions (grouped by note)."""
    oof = np.zeros(y.shape, dtype=float)
    for f in range(folds):
        te = owner % folds == f
        oof[te] = make(x[~te], y[~te])(x[te])
    grid = np.arange(0.05, 0.96, 0.05)
    return np.array([grid[np.argmax([macro_f1(y[:, [k]], oof[:, [k]] >= t) for t in grid])] for k in range(y.shape[1])])


def report(name, make, xtr, ytr, own_tr, xdv, ydv, own_dv, dv_notes, rows):
    t = time.time()
    predict = make(xtr, ytr)
    p = predict(xdv)
    th = cv_thresholds(make, xtr, ytr, own_tr)
    r = {"model": name, "seg_f1@0.5": macro_f1(ydv, p >= 0.5), "note_f1@0.5": note_level(p, own_dv, dv_notes, 0.5),
         "seg_f1@cv": macro_f1(ydv, p >= th), "note_f1@cv": note_level(p, own_dv, dv_notes, th), "seconds": time.time() - t}
    rows.append(r)
    print(f"{name:44} seg {r['seg_f1@0.5']:.3f} / {r['seg_f1@cv']:.3f}   note {r['note_f1@0.5']:.3f} / {r['note_f1@cv']:.3f}   ({r['seconds']:.0f}s)", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--static", action="append", default=[], help="model2vec folder(s)")
    ap.add_argument("--encoder", help="sentence-transformers folder for the ceiling (c)")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--skip-bow", action="store_true", help="skip family (a) (slow)")
    ap.add_argument("--hybrid-scale", type=float, default=3.0, help="weight of the embedding block in (b+a)")
    args = ap.parse_args()
    tr_notes, tr, ytr, own_tr = load("train")
    dv_notes, dv, ydv, own_dv = load("dev")
    print(f"train {len(tr_notes)} notes / {len(tr)} segments, dev {len(dv_notes)} notes / {len(dv)} segments")
    print(f"{'':44} segment macro-F1 @0.5 / @cv   note macro-F1 @0.5 / @cv")
    rows = []
    lr = lambda c: (lambda x, y: (lambda m: (lambda z: proba_lr(m, z)))(fit_lr(x, y, c)))
    base = Tokenizer.from_file(str(ROOT / "training" / "base" / "tokenizer.json"))
    base.no_truncation(); base.no_padding()
    V = base.get_vocab_size()
    itr, idv = ids_of(base, tr), ids_of(base, dv)
    for c in () if args.skip_bow else (30, 300):
        report(f"(a) word pieces, LR C={c}", lr(c), bow(itr, V, False), ytr, own_tr, bow(idv, V, False), ydv, own_dv, dv_notes, rows)
        report(f"(a) word pieces + bigrams, LR C={c}", lr(c), bow(itr, V), ytr, own_tr, bow(idv, V), ydv, own_dv, dv_notes, rows)
    for d in args.static:
        from safetensors.numpy import load_file
        tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json")); tok.no_truncation(); tok.no_padding()
        table = load_file(os.path.join(d, "model.safetensors"))["embeddings"].astype(np.float32)
        itr2, idv2 = ids_of(tok, tr), ids_of(tok, dv)
        str_, sdv = static(itr2, table), static(idv2, table)
        name = Path(d).name
        for c in (1, 10):
            report(f"(b) {name} mean, LR C={c}", lr(c), str_, ytr, own_tr, sdv, ydv, own_dv, dv_notes, rows)
        mlp = lambda x, y: (lambda m: (lambda z: m.predict_proba(z)))(MLPClassifier((256,), alpha=1e-3, max_iter=400, random_state=0, early_stopping=False).fit(x, y))
        report(f"(b) {name} mean, MLP 256", mlp, str_, ytr, own_tr, sdv, ydv, own_dv, dv_notes, rows)
        V2 = tok.get_vocab_size()
        scale = args.hybrid_scale
        htr = hstack([bow(itr2, V2, False), csr_matrix(str_ * scale)]).tocsr()
        hdv = hstack([bow(idv2, V2, False), csr_matrix(sdv * scale)]).tocsr()
        for c in (30, 300):
            report(f"(b+a) {name} + word pieces, LR C={c}", lr(c), htr, ytr, own_tr, hdv, ydv, own_dv, dv_notes, rows)
    if args.encoder:
        os.environ["HF_HUB_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer
        enc = SentenceTransformer(args.encoder, device="cpu")
        etr, edv = enc.encode(tr, batch_size=64), enc.encode(dv, batch_size=64)
        for c in (1, 10):
            report(f"(c) all-MiniLM-L6-v2, LR C={c}", lr(c), etr, ytr, own_tr, edv, ydv, own_dv, dv_notes, rows)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
