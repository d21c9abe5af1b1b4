"""Inception Score (Salimans et al. 2016, "Improved Techniques for Training GANs").

    IS = exp( E_x KL(p(y|x) || p(y)) )

Matches the original code (openai/improved-gan ``inception_score/model.py``):
the N samples are cut into ``splits`` contiguous chunks
``[i*N//splits, (i+1)*N//splits)``, p(y) is each chunk's marginal, and the
result is the mean and ``np.std`` (ddof=0) of the per-chunk scores.

The input is already the classifier's softmax output, so the work is an
(N, C) elementwise reduction: float64 numpy is exact enough and instant.
"""

import numpy as np
from scipy.special import xlogy


def inception_score(probs, splits=10):
    """Inception Score from class probabilities.

    Args:
      probs: (N, C) softmax probabilities p(y|x), numpy or jax; rows must be
        non-negative and sum to 1. N >= splits.
      splits: number of contiguous chunks to score separately.

    Returns:
      (mean, std) over splits as Python floats.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probs must be a 2-D array of shape (N, num_classes); got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("probs contains NaN or inf")
    if int(splits) != splits or splits < 1:
        raise ValueError(f"splits must be a positive integer; got {splits}")
    splits = int(splits)
    n = p.shape[0]
    if n < splits:
        raise ValueError(f"need at least splits={splits} samples to score each split; got N={n}")
    row_sums = p.sum(axis=1)
    # 1e-3 leaves room for float16/float32 softmax rounding over ~1000 classes
    # while still catching logits or unnormalised scores.
    if p.min() < 0 or not np.allclose(row_sums, 1.0, atol=1e-3):
        raise ValueError(
            "probs must be non-negative with rows summing to 1 (min entry "
            f"{p.min():.3g}, row sums in [{row_sums.min():.4g}, {row_sums.max():.4g}]); "
            "pass softmax probabilities, not logits")

    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        py = part.mean(axis=0, keepdims=True)
        # p * (log p - log py) with 0 * log 0 = 0; where p > 0, py > 0 too.
        kl = xlogy(part, part) - xlogy(part, py)
        scores.append(np.exp(kl.sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))
