"""Precision, recall and F1 per code, for the training pipeline's own reports."""

from __future__ import annotations

import numpy as np


def prf_table(code_ids: list[str], y: np.ndarray, pred: np.ndarray) -> str:
    lines = [f"{'code':24} {'P':>6} {'R':>6} {'F1':>6} {'support':>8}"]
    f1s = []
    for k, c in enumerate(code_ids):
        tp = int(np.sum((y[:, k] == 1) & pred[:, k]))
        fp = int(np.sum((y[:, k] == 0) & pred[:, k]))
        fn = int(np.sum((y[:, k] == 1) & ~pred[:, k]))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        f1s.append(f)
        lines.append(f"{c:24} {p:6.3f} {r:6.3f} {f:6.3f} {tp + fn:8d}")
    lines.append(f"{'macro':24} {'':6} {'':6} {np.mean(f1s):6.3f}")
    return "\n".join(lines)
