"""Shared test set-up: where ../shared/ data lives, a synthetic MNIST, one compilation cache.

Tests that check the real digits (the data loader, classifiers, evaluators) take `mnist_dir`;
tests that only need MNIST-shaped data (training, resuming, compiler and dtype options, sharding)
take `synthetic_mnist_dir`, written in their tmp_path.
"""
import gzip
import os
import shutil
import tempfile

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get('GAN_RESEARCH_SHARED', os.path.join(os.path.dirname(REPO), 'shared'))
MNIST_DIR = os.path.join(SHARED, 'data', 'mnist')
_CACHE_KEY = pytest.StashKey[str]()


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


def pytest_configure(config):
  """One on-disk compilation cache for the whole run, and LLVM's optimiser off (below).

  Every xdist worker and every subprocess a test starts (the command-line, preemption, multi-host
  and multi-device tests) reads and fills the same cache, so a train step compiled once is not
  compiled again in another process. Set in the environment before the workers are spawned,
  which inherit it; the cache is removed when the run ends."""
  if hasattr(config, 'workerinput') or 'JAX_COMPILATION_CACHE_DIR' in os.environ:
    return  # an xdist worker (it inherited the variables), or settings the caller chose
  config.stash[_CACHE_KEY] = tempfile.mkdtemp(prefix='gan_research_jax_cache_')
  os.environ['JAX_COMPILATION_CACHE_DIR'] = config.stash[_CACHE_KEY]
  os.environ['JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS'] = '0.5'
  # The suite is mostly compiling tiny models, which LLVM's optimiser spends most of its time
  # on: without it the suite runs faster, though each compiled step runs slower. Only the
  # machine code changes (XLA's own graph passes still run, no fast-math either way), so the
  # values the tests check are the same computations. An XLA_FLAGS of the caller's is kept.
  flags = os.environ.get('XLA_FLAGS', '')
  if 'xla_backend_optimization_level' not in flags:
    os.environ['XLA_FLAGS'] = (flags + ' --xla_backend_optimization_level=0').strip()


def pytest_unconfigure(config):
  path = config.stash.get(_CACHE_KEY, None)
  if path:
    shutil.rmtree(path, ignore_errors=True)
    os.environ.pop('JAX_COMPILATION_CACHE_DIR', None)
