"""Frechet Inception Distance (Heusel et al. 2017, "GANs Trained by a Two
Time-Scale Update Rule Converge to a Local Nash Equilibrium").

    FID = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))

Matches the reference implementations (bioinf-jku/TTUR ``fid.py`` and
mseitzer/pytorch-fid ``calculate_frechet_distance``): sample covariances with
N - 1, ``scipy.linalg.sqrtm`` of ``S1 @ S2`` in float64, an ``eps * I`` retry
when the square root is not finite, and the real part taken unless the
imaginary diagonal is significant.

Everything here is float64 numpy/scipy: the matrix square root is a host-side
LAPACK routine anyway, so jit would buy nothing, and float32 loses the digits
that separate good models (FID differences of < 1 out of traces of ~100s).
"""

import numpy as np
import scipy
import scipy.linalg


def _as_features(feats, name):
    """Convert (N, D) numpy/jax features to float64 numpy, rejecting bad input."""
    x = np.asarray(feats, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (N, D); got shape {x.shape}")
    if x.shape[0] < 2:
        raise ValueError(
            f"{name} has {x.shape[0]} sample(s); FID needs at least 2 per set because the "
            "sample covariance divides by N - 1 (and reliable FID needs thousands)")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf; check the feature extractor")
    return x


def feature_stats(feats):
    """Mean and covariance (ddof=1) of features.

    Args:
      feats: array of shape (N, D), N >= 2, numpy or jax.

    Returns:
      (mu, sigma): float64 numpy arrays of shapes (D,) and (D, D).
    """
    x = _as_features(feats, "feats")
    return x.mean(axis=0), np.cov(x, rowvar=False, ddof=1).reshape(x.shape[1], x.shape[1])


def _sqrtm(a):
    # The reference calls sqrtm(a, disp=False) and discards the error estimate.
    # SciPy >= 1.16 deprecates ``disp`` (removed in 1.18) and computes the
    # same square root without it, so only pass it where it is still needed.
    major, minor = (int(v) for v in scipy.__version__.split(".")[:2])
    if (major, minor) < (1, 16):
        return scipy.linalg.sqrtm(a, disp=False)[0]
    return scipy.linalg.sqrtm(a)


def fid_from_stats(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """Frechet distance between Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    Args:
      mu1, mu2: mean vectors of shape (D,).
      sigma1, sigma2: covariance matrices of shape (D, D).
      eps: diagonal offset added to both covariances only if the plain square
        root of ``sigma1 @ sigma2`` is not finite (as in the reference).

    Returns:
      FID as a Python float.

    Raises:
      ValueError: on shape mismatch, non-finite statistics, or when the matrix
        square root has a significant imaginary component.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    if mu1.ndim != 1 or mu2.ndim != 1:
        raise ValueError(f"means must be 1-D; got shapes {mu1.shape} and {mu2.shape}")
    if mu1.shape != mu2.shape:
        raise ValueError(
            f"feature dimensions differ: {mu1.shape[0]} vs {mu2.shape[0]}; both sets must "
            "come from the same feature extractor layer")
    d = mu1.shape[0]
    if sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"covariances must have shape ({d}, {d}) to match the means; got "
            f"{sigma1.shape} and {sigma2.shape}")
    for name, v in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} contains NaN or inf")

    diff = mu1 - mu2
    covmean = _sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        # Singular product (e.g. fewer samples than dimensions): regularise
        # both covariances slightly, exactly as the reference does.
        offset = np.eye(d) * eps
        covmean = _sqrtm((sigma1 + offset).dot(sigma2 + offset))

    # Numerical error can give a slightly complex result for a product that
    # in exact arithmetic has a real square root; a large imaginary part means
    # the statistics themselves are unreliable.
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            m = np.max(np.abs(covmean.imag))
            raise ValueError(
                f"FID matrix square root has an imaginary component {m:.3g}; the covariance "
                "estimates are unreliable: use more samples (N well above the feature "
                "dimension) and check the features for degenerate or constant columns")
        covmean = covmean.real

    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid(feats_a, feats_b, eps=1e-6):
    """FID between two feature sets.

    Args:
      feats_a, feats_b: arrays of shape (N_a, D) and (N_b, D), numpy or jax,
        N >= 2 each (use >= 10k in practice; FID is biased for small N).
      eps: see :func:`fid_from_stats`.

    Returns:
      FID as a Python float.
    """
    a = _as_features(feats_a, "feats_a")
    b = _as_features(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"feature dimensions differ: feats_a has D={a.shape[1]}, feats_b has "
            f"D={b.shape[1]}; both sets must come from the same feature extractor layer")
    mu1, sigma1 = feature_stats(a)
    mu2, sigma2 = feature_stats(b)
    return fid_from_stats(mu1, sigma1, mu2, sigma2, eps=eps)
