"""Shared test set-up: quiet logs, and where ../shared/ data lives."""
import os

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


@pytest.fixture(scope='session', autouse=True)
def compilation_cache(tmp_path_factory):
  """Tests compile the same train steps several times (resume, sharding): cache them on disk."""
  import jax
  jax.config.update('jax_compilation_cache_dir', str(tmp_path_factory.mktemp('jax_cache')))
  jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.5)
  yield
