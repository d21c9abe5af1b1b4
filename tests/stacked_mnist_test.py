"""Stacked MNIST: batches as a pure function of (seed, step), independent channels, the reference
images' modes, and the mode count / KL against a count done by hand."""
import collections
import math

import ml_collections
import numpy as np
import pytest

from gan_research import config_lib, data
from gan_research.data import images as image_data
from gan_research.data.stacked_mnist import StackedMNISTSource
from gan_research.metrics import evaluators


def _indexed_source(n=100, seed=0):
  """Digit i is a 2x2 image filled with the value i, so a channel's pixel names its digit."""
  digits = (np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 1), np.uint8))
  return StackedMNISTSource(digits, np.arange(n) % 10, seed=seed)


def _digit_indices(batch_x):
  """[..., 2, 2, 3] floats of an indexed source -> the digit index of each channel [..., 3]."""
  return image_data.to_uint8(batch_x)[..., 0, 0, :].astype(np.int64)


def test_batches_are_a_function_of_seed_and_step():
  kw = dict(d_steps=2, batch_size=8)
  a, b = _indexed_source(), _indexed_source()
  np.testing.assert_array_equal(a.get_batch(5, **kw)['x'], b.get_batch(5, **kw)['x'])
  b.get_batch(9, **kw)  # what was read before never changes a later batch
  np.testing.assert_array_equal(a.get_batch(6, **kw)['x'], b.get_batch(6, **kw)['x'])
  assert not np.array_equal(a.get_batch(5, **kw)['x'], a.get_batch(6, **kw)['x'])
  assert not np.array_equal(a.get_batch(5, **kw)['x'],
                            _indexed_source(seed=1).get_batch(5, **kw)['x'])
  assert a.get_batch(5, **kw)['x'].shape == (2, 8, 2, 2, 3)
  halves = [a.get_batch(5, process_index=i, process_count=2, **kw)['x'] for i in range(2)]
  np.testing.assert_array_equal(np.concatenate(halves, axis=1), a.get_batch(5, **kw)['x'])


def test_channels_are_independent_uniform_draws():
  source = _indexed_source(n=100)
  idx = _digit_indices(source.get_batch(0, d_steps=1, batch_size=30_000)['x'][0])  # [N, 3]
  labels = idx % 10
  n = len(idx)
  # Uniform digits per channel: every one of the 100 images appears about n / 100 times.
  for c in range(3):
    counts = np.bincount(idx[:, c], minlength=100)
    assert counts.min() > 0.7 * n / 100 and counts.max() < 1.3 * n / 100
  # Independence: a channel is not a copy of another, and the 10 x 10 table of two channels'
  # digits fits the product of its margins (Pearson chi-square, 81 degrees of freedom; 131.0 is
  # its 0.9999 quantile).
  for c0, c1 in ((0, 1), (0, 2), (1, 2)):
    assert np.mean(idx[:, c0] == idx[:, c1]) < 0.02  # 1 / 100 if independent
    table = np.zeros((10, 10))
    np.add.at(table, (labels[:, c0], labels[:, c1]), 1)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    assert np.sum((table - expected) ** 2 / expected) < 131.0
  # All 1000 triples occur, about equally often.
  modes = labels @ np.array([100, 10, 1])
  assert len(np.unique(modes)) == 1000


def test_reference_images_and_their_modes():
  source = _indexed_source(n=100, seed=3)
  assert len(source.images) == 100 and source.images.dtype == np.uint8
  idx = _digit_indices(image_data.to_float(source.images))
  expected = [100 * (i0 % 10) + 10 * (i1 % 10) + i2 % 10 for i0, i1, i2 in idx]
  np.testing.assert_array_equal(source.labels, expected)
  np.testing.assert_array_equal(source.images, _indexed_source(n=100, seed=3).images)


def test_get_source_builds_it_from_the_mnist_files(synthetic_mnist_dir):
  config = config_lib.base_config()
  config.dataset, config.data_dir, config.image_size = 'stacked_mnist', synthetic_mnist_dir, 28
  source = data.get_source(config, 'test')
  assert source.example_shape == (28, 28, 3)
  digits, _ = image_data.load_mnist_idx(synthetic_mnist_dir, 'test')
  x = image_data.to_uint8(source.get_batch(0, d_steps=1, batch_size=4)['x'][0])
  for image in x:  # every channel is one of the split's digits, unchanged
    for c in range(3):
      assert np.any(np.all(digits[..., 0] == image[..., c], axis=(1, 2)))
  config.image_size = 32  # padded by 2 background pixels, as plain MNIST at 32
  assert data.get_source(config, 'test').example_shape == (32, 32, 3)
  with pytest.raises(ValueError, match='one label per digit'):
    StackedMNISTSource(digits, None)
  with pytest.raises(ValueError, match=r'\[N, H, W, 1\]'):
    StackedMNISTSource(np.zeros((4, 28, 28, 3), np.uint8), np.zeros(4))


def test_mode_count_and_kl_against_a_hand_count():
  # The modes of the reference images, counted with a Counter and the KL summed term by term.
  rng = np.random.default_rng(0)
  digits = rng.integers(0, 10, (2600, 3))
  digits[:600] = [4, 0, 4]  # an over-represented mode
  counts = collections.Counter(map(tuple, digits))
  n = len(digits)
  kl = sum(c / n * math.log(c / n * 1000) for c in counts.values())
  stats = evaluators.stacked_mnist_mode_statistics(digits)
  assert stats['modes'] == len(counts)
  assert stats['kl'] == pytest.approx(kl, rel=1e-12)
  probs = np.eye(10)[digits] * 0.9 + 0.01  # soft per-channel probabilities, same argmax
  assert evaluators.stacked_mnist_mode_statistics(probs) == stats
