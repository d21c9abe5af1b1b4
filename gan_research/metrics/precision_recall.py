"""Improved precision and recall (Kynkaanniemi et al. 2019, "Improved
Precision and Recall Metric for Assessing Generative Models").

Each sample of a set gets a ball whose radius is the distance to its k-th
nearest neighbour within the same set; the union of balls approximates that
set's manifold. Precision is the fraction of fake samples inside the real
manifold, recall the fraction of real samples inside the fake manifold.

Matches the reference (NVlabs/improved-precision-and-recall-metric
``precision_recall.py``, also stylegan2-ada-pytorch
``metrics/precision_recall.py``): distances come from the expanded form
||a||^2 - 2 a.b + ||b||^2 clamped at 0, the radius is the (k+1)-th smallest
distance in the row (the self-distance 0 is the first), and a sample is
inside when dist <= radius of at least one ball. Like the reference we
compare squared distances, which gives identical decisions without a sqrt.

Pairwise distances are computed in jitted row batches (``lax.map`` over
batches) so only a (batch_size, N) block is alive at a time: 10k x 10k x 2048
runs in ~40 MB of distance memory per batch of 1024.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np


def _as_features(feats, name, k):
    x = np.asarray(feats, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (N, D); got shape {x.shape}")
    if x.shape[0] < k + 1:
        raise ValueError(
            f"{name} has {x.shape[0]} sample(s); k={k} nearest neighbours excluding the "
            f"sample itself need at least k + 1 = {k + 1} samples per set")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf; check the feature extractor")
    return x


def _sq_dists(u, v):
    # Expanded form as in the reference: one matmul instead of an (B, N, D)
    # difference tensor. HIGHEST precision keeps accelerators off TF32/bf16,
    # whose error would swamp the cancellation in this form.
    uu = jnp.sum(u * u, axis=1)[:, None]
    vv = jnp.sum(v * v, axis=1)[None, :]
    uv = jnp.matmul(u, v.T, precision=jax.lax.Precision.HIGHEST)
    return jnp.maximum(uu - 2.0 * uv + vv, 0.0)


def _batched(x, batch_size):
    """Zero-pad rows to a multiple of batch_size and reshape to (nb, B, D)."""
    n = x.shape[0]
    nb = -(-n // batch_size)
    pad = nb * batch_size - n
    return jnp.pad(x, ((0, pad), (0, 0))).reshape(nb, batch_size, x.shape[1])


@functools.partial(jax.jit, static_argnames=("k", "batch_size"))
def _knn_radii_sq(feats, k, batch_size):
    """Squared distance from each row to its k-th nearest other row."""
    def one_batch(rows):
        d = _sq_dists(rows, feats)
        # top_k of -d gives the k+1 smallest; index k skips the self-distance.
        return -jax.lax.top_k(-d, k + 1)[0][:, k]

    radii = jax.lax.map(one_batch, _batched(feats, batch_size))
    return radii.reshape(-1)[:feats.shape[0]]


@functools.partial(jax.jit, static_argnames=("batch_size",))
def _inside_count(query, ref, ref_radii_sq, batch_size):
    """Number of query rows within at least one ball (ref_i, radius_i)."""
    def one_batch(rows):
        return jnp.any(_sq_dists(rows, ref) <= ref_radii_sq[None, :], axis=1)

    inside = jax.lax.map(one_batch, _batched(query, batch_size))
    # An integer count, divided on the host, keeps the fraction exact.
    return jnp.sum(inside.reshape(-1)[:query.shape[0]].astype(jnp.int32))


def precision_recall(real_feats, fake_feats, k=3, batch_size=1024):
    """Improved precision and recall of fake features against real features.

    Args:
      real_feats, fake_feats: (N_real, D) and (N_fake, D) features, numpy or
        jax, each with at least k + 1 samples. The paper uses 50k each with
        VGG-16 fc2 features; the metric depends on N and k, so keep them
        fixed across compared models.
      k: neighbourhood size for the manifold radii (paper default 3).
      batch_size: rows of the pairwise-distance matrix computed at once;
        memory is about batch_size * max(N_real, N_fake) * 4 bytes.

    Returns:
      (precision, recall) as Python floats in [0, 1].
    """
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer; got {k}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size}")
    k, batch_size = int(k), int(batch_size)
    real = _as_features(real_feats, "real_feats", k)
    fake = _as_features(fake_feats, "fake_feats", k)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"feature dimensions differ: real_feats has D={real.shape[1]}, fake_feats has "
            f"D={fake.shape[1]}; both sets must come from the same feature extractor layer")
    real, fake = jnp.asarray(real), jnp.asarray(fake)
    # No point padding a small set up to a large batch.
    b_real = min(batch_size, real.shape[0])
    b_fake = min(batch_size, fake.shape[0])

    real_radii = _knn_radii_sq(real, k, b_real)
    fake_radii = _knn_radii_sq(fake, k, b_fake)
    precision = int(_inside_count(fake, real, real_radii, b_fake)) / fake.shape[0]
    recall = int(_inside_count(real, fake, fake_radii, b_real)) / real.shape[0]
    return precision, recall
