"""Kernel Inception Distance (Binkowski et al. 2018, "Demystifying MMD GANs").

KID is the unbiased estimate of the squared MMD with the cubic polynomial
kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets of size m:

    MMD^2_u = sum_{i != j} Kxx_ij / (m (m-1)) + sum_{i != j} Kyy_ij / (m (m-1))
              - 2 sum_{i, j} Kxy_ij / m^2

Matches the original KID code (mbinkowski/MMD-GAN ``compute_scores.py``,
``polynomial_mmd_averages`` with ``unbiased=True``) and stylegan2-ada-pytorch
``metrics/kernel_inception_distance.py``: each subset draws m samples without
replacement from each set, m = min(subset_size, N_a, N_b); the result is the
mean and (ddof=0) std over subsets.

Subsets are evaluated with ``lax.map`` inside one jit (the m x m kernel
matrices are the cost; mapping sequentially keeps memory at one subset's
worth). The arithmetic runs in float64 because KID is a small difference of
large kernel sums (values ~1e-5..1e-2 from means ~1..10); float32 matmuls give
~1% relative error at the low end.
"""

import jax
import jax.numpy as jnp
import numpy as np


def _as_features(feats, name):
    """Convert (N, D) numpy/jax features to numpy (float32 or float64), validated."""
    x = np.asarray(feats)
    if x.dtype != np.float64:
        x = x.astype(np.float32)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (N, D); got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(
            f"{name} has {x.shape[0]} sample(s); KID needs at least 2 per set because the "
            "unbiased MMD estimator drops the diagonal and divides by m (m - 1)")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf; check the feature extractor")
    return x


def _check_pair(a, b):
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"feature dimensions differ: feats_a has D={a.shape[1]}, feats_b has "
            f"D={b.shape[1]}; both sets must come from the same feature extractor layer")


def kid_subset_indices(n_a, n_b, num_subsets=100, subset_size=1000, seed=0):
    """Reproducible subset indices as used by :func:`kid`.

    Each row is m = min(subset_size, n_a, n_b) distinct indices (drawn without
    replacement within the subset; rows are independent draws).

    Returns:
      (idx_a, idx_b): int64 numpy arrays of shape (num_subsets, m).
    """
    if num_subsets < 1:
        raise ValueError(f"num_subsets must be >= 1; got {num_subsets}")
    m = min(subset_size, n_a, n_b)
    if m < 2:
        raise ValueError(
            f"subset size m = min(subset_size={subset_size}, N_a={n_a}, N_b={n_b}) = {m}; "
            "the unbiased MMD estimator needs m >= 2")
    rng = np.random.default_rng(seed)
    idx_a = np.empty((num_subsets, m), dtype=np.int64)
    idx_b = np.empty((num_subsets, m), dtype=np.int64)
    for s in range(num_subsets):
        # A fresh draw per subset: no repeats within a subset (a repeated
        # sample would bias the off-diagonal sums), overlap across subsets ok.
        idx_a[s] = rng.choice(n_a, m, replace=False)
        idx_b[s] = rng.choice(n_b, m, replace=False)
    return idx_a, idx_b


@jax.jit
def _mmd2_subsets(feats_a, feats_b, idx_a, idx_b):
    d = feats_a.shape[1]
    m = idx_a.shape[1]
    hp = jax.lax.Precision.HIGHEST  # no TF32/bf16 shortcuts on accelerators

    def kernel(x, y):
        return (jnp.matmul(x, y.T, precision=hp) / d + 1.0) ** 3

    def one_subset(idx):
        ia, ib = idx
        x = feats_a[ia].astype(jnp.float64)
        y = feats_b[ib].astype(jnp.float64)
        kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
        off_diag = lambda k: (k.sum() - jnp.trace(k)) / (m * (m - 1))
        return off_diag(kxx) + off_diag(kyy) - 2.0 * kxy.mean()

    return jax.lax.map(one_subset, (idx_a, idx_b))


def mmd2_subsets(feats_a, feats_b, idx_a, idx_b):
    """Unbiased MMD^2 (cubic polynomial kernel) for explicit subsets.

    Args:
      feats_a, feats_b: (N_a, D) and (N_b, D) features, numpy or jax.
      idx_a, idx_b: integer arrays of shape (S, m), m >= 2: row s selects the
        s-th subset of each set (e.g. from :func:`kid_subset_indices`).

    Returns:
      float64 numpy array of shape (S,): one estimate per subset.
    """
    a = _as_features(feats_a, "feats_a")
    b = _as_features(feats_b, "feats_b")
    _check_pair(a, b)
    idx_a = np.asarray(idx_a)
    idx_b = np.asarray(idx_b)
    if idx_a.ndim != 2 or idx_a.shape != idx_b.shape or idx_a.shape[1] < 2:
        raise ValueError(
            f"idx_a and idx_b must both have shape (num_subsets, m) with m >= 2; got "
            f"{idx_a.shape} and {idx_b.shape}")
    for name, idx, n in (("idx_a", idx_a, a.shape[0]), ("idx_b", idx_b, b.shape[0])):
        if idx.min() < 0 or idx.max() >= n:
            raise ValueError(f"{name} has indices outside [0, {n})")
    # Scoped x64 so float64 works without changing the caller's global config.
    with jax.enable_x64(True):
        out = _mmd2_subsets(jnp.asarray(a), jnp.asarray(b),
                            jnp.asarray(idx_a, jnp.int32), jnp.asarray(idx_b, jnp.int32))
        return np.asarray(out, dtype=np.float64)


def kid(feats_a, feats_b, num_subsets=100, subset_size=1000, seed=0):
    """Kernel Inception Distance between two feature sets.

    Args:
      feats_a, feats_b: (N_a, D) and (N_b, D) features, numpy or jax, N >= 2.
      num_subsets: number of random subsets to average over.
      subset_size: m is min(subset_size, N_a, N_b).
      seed: seed for the subset draw (see :func:`kid_subset_indices`).

    Returns:
      (mean, std) over subsets as Python floats; std uses ddof=0 like the
      original code. Multiply by 1e3 for the usual "KID x 10^3" tables.
    """
    a = _as_features(feats_a, "feats_a")
    b = _as_features(feats_b, "feats_b")
    _check_pair(a, b)
    idx_a, idx_b = kid_subset_indices(a.shape[0], b.shape[0], num_subsets, subset_size, seed)
    vals = mmd2_subsets(a, b, idx_a, idx_b)
    return float(vals.mean()), float(vals.std())
