"""Checks the metric formulas against independent numpy/scipy computations.

Each expected value is recomputed here from the paper's definition, by a
different route where that is cheap (eigendecompositions for the FID trace,
scipy.stats.entropy for IS, exact cdist distances for precision/recall,
explicit loops for KID), never via the module's own helpers.
"""

import itertools

import importlib

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats

from gan_research.metrics.fid import feature_stats, fid, fid_from_stats

fid_mod = importlib.import_module("gan_research.metrics.fid")  # the module, not metrics.fid()
from gan_research.metrics.inception_score import inception_score
from gan_research.metrics.kid import kid, kid_subset_indices, mmd2_subsets
from gan_research.metrics.precision_recall import precision_recall


def _correlated(rng, n, d, scale=1.0, shift=0.0):
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    return scale * rng.normal(size=(n, d)) @ mix + shift


# --------------------------------------------------------------------- FID


def _fid_numpy(a, b):
    """FID via the symmetric form Tr sqrt(S1^1/2 S2 S1^1/2), which has the
    same trace as sqrt(S1 S2) but only needs eigh of symmetric matrices."""
    mu1, mu2 = a.mean(0), b.mean(0)
    ca, cb = a - mu1, b - mu2
    s1 = ca.T @ ca / (len(a) - 1)
    s2 = cb.T @ cb / (len(b) - 1)
    w, v = np.linalg.eigh(s1)
    s1_half = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(s1_half @ s2 @ s1_half), 0, None)).sum()
    return np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt


@pytest.mark.parametrize("n_a,n_b,d", [(50, 40, 5), (300, 200, 32), (500, 700, 64)])
def test_fid_matches_numpy(n_a, n_b, d):
    rng = np.random.default_rng(n_a + d)
    a = _correlated(rng, n_a, d)
    b = _correlated(rng, n_b, d, scale=1.3, shift=0.2)
    expected = _fid_numpy(a, b)
    assert fid(a, b) == pytest.approx(expected, rel=1e-7, abs=1e-8)
    # jax input and float32 input go through the same float64 path
    assert fid(jnp.asarray(a, jnp.float32), b) == pytest.approx(
        _fid_numpy(a.astype(np.float32).astype(np.float64), b), rel=1e-7)


def test_feature_stats_and_fid_from_stats():
    rng = np.random.default_rng(1)
    a = _correlated(rng, 100, 8)
    b = _correlated(rng, 120, 8, shift=1.0)
    mu, sigma = feature_stats(jnp.asarray(a, jnp.float32))
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    a32 = a.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(mu, a32.sum(0) / len(a32), rtol=1e-12)
    c = a32 - a32.mean(0)
    np.testing.assert_allclose(sigma, c.T @ c / (len(a32) - 1), rtol=1e-10, atol=1e-14)
    stats = feature_stats(a) + feature_stats(b)
    assert fid_from_stats(*stats) == pytest.approx(_fid_numpy(a, b), rel=1e-8)
    assert isinstance(fid(a, b), float)


def test_fid_identical_sets_is_zero():
    rng = np.random.default_rng(2)
    a = _correlated(rng, 400, 32, scale=10.0)
    scale = np.trace(np.cov(a, rowvar=False))
    assert abs(fid(a, a)) < 1e-6 * scale


def test_fid_mean_shift_is_squared_norm():
    rng = np.random.default_rng(3)
    a = _correlated(rng, 400, 32)
    shift = rng.normal(size=32)
    # Same samples + shift: identical covariances, so FID is exactly ||d||^2.
    assert fid(a, a + shift) == pytest.approx(np.sum(shift ** 2), rel=1e-9, abs=1e-9)


def test_fid_eps_retry_when_sqrtm_not_finite(monkeypatch):
    # Recent SciPy rarely returns non-finite roots, so force the reference's
    # fallback branch and check it regularises both covariances with eps * I.
    calls = []
    real_sqrtm = fid_mod._sqrtm

    def fake_sqrtm(m):
        calls.append(m)
        return np.full_like(m, np.nan) if len(calls) == 1 else real_sqrtm(m)

    monkeypatch.setattr(fid_mod, "_sqrtm", fake_sqrtm)
    rng = np.random.default_rng(4)
    s1 = np.cov(rng.normal(size=(30, 4)), rowvar=False)
    s2 = np.cov(rng.normal(size=(30, 4)), rowvar=False)
    mu = np.zeros(4)
    out = fid_from_stats(mu, s1, mu, s2, eps=1e-2)
    off = 1e-2 * np.eye(4)
    np.testing.assert_allclose(calls[1], (s1 + off) @ (s2 + off))
    s1o_half = scipy.linalg.sqrtm(s1 + off).real
    tr = np.sqrt(np.linalg.eigvalsh(s1o_half @ (s2 + off) @ s1o_half)).sum()
    assert out == pytest.approx(np.trace(s1) + np.trace(s2) - 2 * tr, rel=1e-8)


def test_fid_imaginary_component_raises():
    # sigma1 is not PSD, so sqrt(sigma1 sigma2) has an imaginary diagonal.
    mu = np.zeros(2)
    with pytest.raises(ValueError, match="(?i)imaginary component.*more samples"):
        fid_from_stats(mu, np.diag([1.0, -1.0]), mu, np.eye(2))


def test_fid_bad_input_raises():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(20, 4))
    with pytest.raises(ValueError, match="at least 2"):
        fid(a[:1], a)
    with pytest.raises(ValueError, match="at least 2"):
        fid(a, a[:1])
    with pytest.raises(ValueError, match="dimensions differ"):
        fid(a, a[:, :3])
    with pytest.raises(ValueError, match="2-D"):
        fid(a[0], a)
    with pytest.raises(ValueError, match="NaN or inf"):
        fid(np.where(a > 1, np.nan, a), a)
    with pytest.raises(ValueError, match="dimensions differ"):
        fid_from_stats(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


# --------------------------------------------------------------------- KID


def _mmd2_loop(x, y):
    """Unbiased MMD^2 with k(x, y) = (x.y/d + 1)^3, written as explicit sums."""
    m, d = x.shape
    k = lambda u, v: (u @ v / d + 1.0) ** 3
    xx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2))
    yy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(m), 2))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return xx / (m * (m - 1)) + yy / (m * (m - 1)) - 2 * xy / m ** 2


def _mmd2_numpy(x, y):
    m, d = x.shape
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    off = ~np.eye(m, dtype=bool)
    return kxx[off].mean() + kyy[off].mean() - 2 * kxy.mean()


def test_mmd2_subsets_matches_brute_force_loop():
    rng = np.random.default_rng(6)
    a = rng.gamma(0.5, 1.0, size=(40, 6))
    b = rng.gamma(0.6, 1.0, size=(30, 6))
    idx_a = np.stack([rng.choice(40, 9, replace=False) for _ in range(5)])
    idx_b = np.stack([rng.choice(30, 9, replace=False) for _ in range(5)])
    got = mmd2_subsets(a, b, idx_a, idx_b)
    expected = [_mmd2_loop(a[ia], b[ib]) for ia, ib in zip(idx_a, idx_b)]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("n_a,n_b,d,subset_size", [(200, 150, 16, 100), (120, 300, 64, 1000)])
def test_kid_matches_numpy_over_same_subsets(n_a, n_b, d, subset_size):
    rng = np.random.default_rng(n_a)
    a = rng.gamma(0.5, 1.0, size=(n_a, d)).astype(np.float32)
    b = (rng.gamma(0.5, 1.0, size=(n_b, d)) * 1.1).astype(np.float32)
    mean, std = kid(jnp.asarray(a), b, num_subsets=20, subset_size=subset_size, seed=3)
    idx_a, idx_b = kid_subset_indices(n_a, n_b, 20, subset_size, seed=3)
    m = min(subset_size, n_a, n_b)
    assert idx_a.shape == idx_b.shape == (20, m)
    # Without replacement within each subset, in range.
    for idx, n in ((idx_a, n_a), (idx_b, n_b)):
        assert all(len(np.unique(row)) == m for row in idx)
        assert idx.min() >= 0 and idx.max() < n
    vals = np.array([_mmd2_numpy(a[ia].astype(np.float64), b[ib].astype(np.float64))
                     for ia, ib in zip(idx_a, idx_b)])
    assert mean == pytest.approx(vals.mean(), rel=1e-9, abs=1e-12)
    assert std == pytest.approx(np.std(vals), rel=1e-7, abs=1e-12)
    assert isinstance(mean, float) and isinstance(std, float)


def test_kid_subset_indices_reproducible():
    a1 = kid_subset_indices(50, 60, 4, 10, seed=0)
    a2 = kid_subset_indices(50, 60, 4, 10, seed=0)
    b1 = kid_subset_indices(50, 60, 4, 10, seed=1)
    np.testing.assert_array_equal(a1[0], a2[0])
    np.testing.assert_array_equal(a1[1], a2[1])
    assert not np.array_equal(a1[0], b1[0])


def test_kid_same_distribution_near_zero_shifted_positive():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(400, 16))
    b = rng.normal(size=(400, 16))
    same, same_std = kid(a, b, num_subsets=30, subset_size=200)
    shifted, shifted_std = kid(a, b + 0.5, num_subsets=30, subset_size=200)
    assert shifted > 0 and shifted > 10 * shifted_std / np.sqrt(30)
    assert abs(same) < 3 * same_std
    assert abs(same) < 0.02 * shifted


def test_kid_bad_input_raises():
    rng = np.random.default_rng(8)
    a = rng.normal(size=(20, 4))
    with pytest.raises(ValueError, match="at least 2"):
        kid(a[:1], a)
    with pytest.raises(ValueError, match="m >= 2"):
        kid(a, a, subset_size=1)
    with pytest.raises(ValueError, match="dimensions differ"):
        kid(a, a[:, :3])
    with pytest.raises(ValueError, match="2-D"):
        kid(a[0], a)


# ---------------------------------------------------------------------- IS


def _is_numpy(p, splits):
    n = len(p)
    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        py = part.mean(0)
        kl = [scipy.stats.entropy(row, py) for row in part]  # KL(row || py)
        scores.append(np.exp(np.mean(kl)))
    return np.mean(scores), np.std(scores)


@pytest.mark.parametrize("n,c,splits", [(103, 7, 10), (500, 50, 5), (64, 1000, 1)])
def test_inception_score_matches_numpy(n, c, splits):
    rng = np.random.default_rng(n)
    p = rng.dirichlet(np.full(c, 0.3), size=n)
    p[0, :] = 0.0  # exact zeros exercise the 0 * log 0 = 0 convention
    p[0, 1] = 1.0
    mean, std = inception_score(jnp.asarray(p, jnp.float32), splits=splits)
    exp_mean, exp_std = _is_numpy(p.astype(np.float32).astype(np.float64), splits)
    assert mean == pytest.approx(exp_mean, rel=1e-9)
    assert std == pytest.approx(exp_std, rel=1e-7, abs=1e-12)
    assert isinstance(mean, float) and isinstance(std, float)


def test_inception_score_one_hot_uniform_equals_num_classes():
    c, splits = 5, 10
    # Class i % c: every split of 10 rows holds each class exactly twice.
    p = np.eye(c)[np.arange(100) % c]
    mean, std = inception_score(p, splits=splits)
    assert mean == pytest.approx(c, rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_identical_rows_is_one():
    row = np.random.default_rng(9).dirichlet(np.ones(10))
    mean, std = inception_score(np.tile(row, (50, 1)), splits=5)
    assert mean == pytest.approx(1.0, abs=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_bad_input_raises():
    rng = np.random.default_rng(10)
    logits = rng.normal(size=(20, 5))
    with pytest.raises(ValueError, match="softmax probabilities, not logits"):
        inception_score(logits, splits=2)
    with pytest.raises(ValueError, match="softmax probabilities, not logits"):
        inception_score(np.exp(logits), splits=2)  # positive but not normalised
    probs = rng.dirichlet(np.ones(5), size=20)
    with pytest.raises(ValueError, match="at least splits=30"):
        inception_score(probs, splits=30)
    with pytest.raises(ValueError, match="2-D"):
        inception_score(probs[0], splits=1)


# ---------------------------------------------------------- precision/recall


def _pr_numpy(real, fake, k):
    def radii(x):
        d = scipy.spatial.distance.cdist(x, x)
        return np.sort(d, axis=1)[:, k]  # index 0 is the sample itself

    def inside(query, ref):
        d = scipy.spatial.distance.cdist(query, ref)
        return np.mean(np.any(d <= radii(ref)[None, :], axis=1))

    return inside(fake, real), inside(real, fake)


@pytest.mark.parametrize("n_real,n_fake,d,k,batch_size", [
    (100, 80, 8, 3, 1024),
    (257, 300, 32, 5, 64),   # batch sizes that do not divide N (padding)
    (60, 90, 16, 1, 7),
])
def test_precision_recall_matches_numpy(n_real, n_fake, d, k, batch_size):
    rng = np.random.default_rng(n_real + k)
    real = rng.normal(size=(n_real, d))
    # Partial overlap so both numbers sit strictly between 0 and 1.
    fake = 1.3 * rng.normal(size=(n_fake, d)) + 0.4
    expected = _pr_numpy(real.astype(np.float32).astype(np.float64),
                         fake.astype(np.float32).astype(np.float64), k)
    got = precision_recall(jnp.asarray(real), fake, k=k, batch_size=batch_size)
    assert 0 < expected[0] < 1 and 0 < expected[1] < 1
    assert got == pytest.approx(expected, abs=1e-9)
    assert all(isinstance(v, float) for v in got)


def test_precision_recall_identical_and_far_apart():
    rng = np.random.default_rng(11)
    real = rng.normal(size=(200, 16))
    assert precision_recall(real, real.copy(), k=3) == (1.0, 1.0)
    assert precision_recall(real, real + 100.0, k=3) == (0.0, 0.0)


def test_precision_recall_bad_input_raises():
    rng = np.random.default_rng(12)
    a = rng.normal(size=(10, 4))
    with pytest.raises(ValueError, match="at least k \\+ 1 = 4"):
        precision_recall(a[:3], a, k=3)
    with pytest.raises(ValueError, match="at least k \\+ 1 = 4"):
        precision_recall(a, a[:3], k=3)
    with pytest.raises(ValueError, match="dimensions differ"):
        precision_recall(a, a[:, :3])
    with pytest.raises(ValueError, match="2-D"):
        precision_recall(a[0], a)
