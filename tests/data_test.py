"""Data sources: the toy mixtures, MNIST from IDX files, image folders, determinism by step."""
import os

import numpy as np
import pytest
from PIL import Image

from gan_research import config_lib, data
from gan_research.data import images, synthetic


def _config(**kw):
  c = config_lib.base_config()
  c.update(kw)
  return c


def test_ring8_matches_its_definition():
  src = synthetic.ring8(seed=1)
  np.testing.assert_allclose(np.linalg.norm(src.centers, axis=1), 1.0, rtol=1e-6)
  angles = np.sort(np.mod(np.arctan2(src.centers[:, 1], src.centers[:, 0]), 2 * np.pi))
  np.testing.assert_allclose(np.diff(angles), np.pi / 4, rtol=1e-5)
  x = src.get_batch(0, d_steps=1, batch_size=20000)['x'][0]
  nearest = np.argmin(np.linalg.norm(x[:, None] - src.centers[None], axis=-1), axis=1)
  residual = x - src.centers[nearest]
  np.testing.assert_allclose(residual.std(axis=0), 0.01, rtol=0.05)
  np.testing.assert_allclose(np.bincount(nearest) / len(x), 1 / 8, atol=0.01)


def test_grid25_matches_its_definition():
  src = synthetic.grid25()
  assert sorted(set(src.centers[:, 0])) == [-4, -2, 0, 2, 4] and len(src.centers) == 25
  x = src.get_batch(3, d_steps=1, batch_size=20000)['x'][0]
  residual = x - np.round(x / 2) * 2
  np.testing.assert_allclose(residual.std(axis=0), 0.05, rtol=0.05)


@pytest.mark.parametrize('modes', [1, 2, 3])
def test_gauss1d_modes_and_density(modes):
  src = synthetic.gauss1d(num_modes=modes)
  assert src.example_shape == (1,) and len(src.centers) == modes
  xs = np.linspace(-10, 10, 20001)
  np.testing.assert_allclose(np.trapezoid(src.density(xs), xs), 1.0, rtol=1e-4)
  with pytest.raises(ValueError, match='num_modes'):
    synthetic.gauss1d(num_modes=4)


def test_batches_are_a_function_of_step_and_processes_split_the_global_batch():
  src = synthetic.ring8(seed=3)
  a = src.get_batch(7, d_steps=2, batch_size=8)['x']
  assert a.shape == (2, 8, 2)
  np.testing.assert_array_equal(a, src.get_batch(7, d_steps=2, batch_size=8)['x'])
  assert not np.array_equal(a, src.get_batch(8, d_steps=2, batch_size=8)['x'])
  halves = [src.get_batch(7, d_steps=2, batch_size=8, process_index=i, process_count=2)['x']
            for i in range(2)]
  np.testing.assert_array_equal(np.concatenate(halves, axis=1), a)


def test_array_source_visits_every_example_once_per_epoch():
  imgs = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1)
  src = images.ArraySource(imgs, seed=0)
  idx = np.concatenate([src.indices(s, d_steps=1, batch_size=4).ravel() for s in range(5)])
  assert sorted(idx[:10]) == list(range(10)) and sorted(idx[10:20]) == list(range(10))
  assert not np.array_equal(idx[:10], idx[10:20])  # a new permutation each epoch
  batch = src.get_batch(1, d_steps=2, batch_size=2, process_index=1, process_count=2)['x']
  np.testing.assert_allclose(batch[:, :, 0, 0, 0],
                             images.to_float(imgs[src.indices(1, d_steps=2, batch_size=2)[:, 1:]])
                             [..., 0, 0, 0])


def test_mnist_from_idx_files(mnist_dir):
  src = data.get_source(_config(dataset='mnist', data_dir=mnist_dir, image_size=28))
  assert len(src) == 60000 and src.example_shape == (28, 28, 1)
  assert np.bincount(src.labels).min() > 5000  # all ten digits
  x = src.get_batch(0, d_steps=1, batch_size=64)['x']
  assert x.dtype == np.float32 and x.min() == -1.0 and x.max() == 1.0
  test = data.get_source(_config(dataset='mnist', data_dir=mnist_dir, image_size=32), 'test')
  assert len(test) == 10000 and test.example_shape == (32, 32, 1)
  # 28 -> 32 pads with background: the border is exactly black.
  assert test.images[:, :2].max() == 0 and test.images[:, :, -2:].max() == 0


def test_missing_mnist_says_how_to_provide_it(tmp_path):
  with pytest.raises(FileNotFoundError, match='IDX files.*shared/data/mnist'):
    data.get_source(_config(dataset='mnist', data_dir=str(tmp_path)))


def test_corrupt_idx_file_is_named(tmp_path):
  path = tmp_path / 'bad-idx3-ubyte'
  path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 28]) + b'\0' * 100)
  with pytest.raises(ValueError, match='bad-idx3-ubyte.*truncated'):
    images.read_idx(str(path))


def _write_images(folder, count, size=(40, 30)):
  os.makedirs(folder, exist_ok=True)
  rng = np.random.default_rng(0)
  for i in range(count):
    array = rng.integers(0, 256, size + (3,), dtype=np.uint8)
    Image.fromarray(array).save(os.path.join(folder, f'im{i}.png'))


def test_image_folder_resizes_and_scales(tmp_path):
  _write_images(tmp_path / 'a', 3)
  _write_images(tmp_path / 'a' / 'nested', 2, size=(16, 16))
  src = data.get_source(_config(dataset='image_folder', data_dir=str(tmp_path), image_size=8))
  assert len(src) == 5 and src.example_shape == (8, 8, 3)
  x = src.get_batch(0, d_steps=1, batch_size=5)['x']
  assert -1.0 <= x.min() and x.max() <= 1.0


def test_unreadable_image_is_reported_by_path(tmp_path):
  _write_images(tmp_path, 2)
  (tmp_path / 'broken.jpg').write_bytes(b'not a jpeg')
  with pytest.raises(ValueError, match='broken.jpg'):
    data.get_source(_config(dataset='image_folder', data_dir=str(tmp_path), image_size=8))


def test_unknown_dataset_lists_valid_names():
  with pytest.raises(ValueError, match="valid datasets: .*ring8.*grid25.*mnist.*image_folder"):
    data.get_source(_config(dataset='cifar'))


def test_pixel_scaling_round_trips():
  x = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
  f = images.to_float(x)
  assert f.min() == -1.0 and f.max() == 1.0
  np.testing.assert_array_equal(images.to_uint8(f), x)
