"""Shared test set-up: where ../shared/ data lives, a synthetic MNIST, a compilation cache.

Tests that check the real digits (the data loader, classifiers, evaluators) take `mnist_dir`;
tests that only need MNIST-shaped data (training, resuming, compiler and dtype options, sharding)
take `synthetic_mnist_dir`, written in their tmp_path.
"""
import gzip
import os

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get('GAN_RESEARCH_SHARED', os.path.join(os.path.dirname(REPO), 'shared'))
MNIST_DIR = os.path.join(SHARED, 'data', 'mnist')


@pytest.fixture
def mnist_dir():
  if not os.path.exists(os.path.join(MNIST_DIR, 'train-images-idx3-ubyte.gz')):
    pytest.fail(f'MNIST IDX files not found in {MNIST_DIR}; set GAN_RESEARCH_SHARED to the '
                'shared/ folder that holds data/mnist.')
  return MNIST_DIR


def write_idx(path, array):
  """Writes a uint8 array as a gzipped IDX file (LeCun's MNIST format): magic 0, 0, 0x08 (unsigned
  byte), the number of dimensions, each dimension as a big-endian int32, then the values."""
  array = np.asarray(array, np.uint8)
  header = bytes([0, 0, 0x08, array.ndim]) + b''.join(
      int(d).to_bytes(4, 'big') for d in array.shape)
  with gzip.open(path, 'wb') as f:
    f.write(header + array.tobytes())


def synthetic_digits(n, seed):
  """n [28, 28] uint8 images with labels 0-9: label c is a bright 8x5 bar at row 4 + 10 (c // 5)
  and column 2 + 5 (c % 5), over faint noise, so classes differ and images within one vary."""
  rng = np.random.default_rng(seed)
  labels = np.arange(n) % 10
  rng.shuffle(labels)
  images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
  for image, c in zip(images, labels):
    top, left = 4 + 10 * (c // 5), 2 + 5 * (c % 5)
    image[top:top + 8, left:left + 5] = rng.integers(200, 256, (8, 5))
  return images, labels.astype(np.uint8)


def write_synthetic_mnist(folder):
  """Writes the four MNIST IDX files (300 train, 100 test images) of synthetic digits."""
  folder.mkdir()
  for prefix, n, seed in (('train', 300, 0), ('t10k', 100, 1)):
    images, labels = synthetic_digits(n, seed)
    write_idx(folder / f'{prefix}-images-idx3-ubyte.gz', images)
    write_idx(folder / f'{prefix}-labels-idx1-ubyte.gz', labels)
  return str(folder)


@pytest.fixture
def synthetic_mnist_dir(tmp_path):
  """A folder with the four MNIST IDX files of synthetic digits (write_synthetic_mnist)."""
  return write_synthetic_mnist(tmp_path / 'synthetic_mnist')


@pytest.fixture(scope='session', autouse=True)
def compilation_cache(tmp_path_factory):
  """Tests compile the same train steps several times (resume, sharding): cache them on disk."""
  import jax
  jax.config.update('jax_compilation_cache_dir', str(tmp_path_factory.mktemp('jax_cache')))
  jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.5)
  yield
