"""Data sources: the toy mixtures, MNIST from IDX files, image folders, determinism by step."""
import gzip
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


def _write_idx(path, array):
  """An unsigned-byte IDX file (MNIST's format), gzipped."""
  header = bytes([0, 0, 8, array.ndim]) + b''.join(d.to_bytes(4, 'big') for d in array.shape)
  with gzip.open(path, 'wb') as f:
    f.write(header + array.astype(np.uint8).tobytes())


def _write_mnist(folder, n=12):
  """Four IDX files of n random 28x28 'digits' per split, labelled 0..9 in turn."""
  os.makedirs(folder, exist_ok=True)
  rng = np.random.default_rng(0)
  for split, (image_file, label_file) in images.MNIST_FILES.items():
    _write_idx(os.path.join(folder, image_file + '.gz'),
               rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
    _write_idx(os.path.join(folder, label_file + '.gz'), np.arange(n) % 10)
  return str(folder)


def _fake_tfds(name, split, data_dir):
  """Stands in for images.load_tfds: labelled images for an image dataset, plain for cycle_gan."""
  del data_dir
  array = np.random.default_rng(len(split)).integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
  if name.startswith('cycle_gan/'):
    return array, None, None
  return array, np.arange(6, dtype=np.int32), tuple('abcdef')


def _image_folder(root):
  _write_images(root, 3)
  return str(root)


def _paired_folder(root):
  for split in ('train', 'test'):
    _write_images(root / split, 3, size=(16, 32))
  return str(root)


def _unpaired_folder(root):
  for folder in ('trainA', 'trainB', 'testA', 'testB'):
    _write_images(root / folder, 2, size=(16, 16))
  return str(root)


# One tiny instance of every entry of data.DATASETS: (config overrides, builder of data_dir).
REGISTERED = {
    'ring8': {}, 'grid25': {}, 'gauss1d': {},
    'mnist': dict(image_size=28, data_dir=_write_mnist),
    'stacked_mnist': dict(image_size=28, data_dir=_write_mnist),
    'image_folder': dict(image_size=8, data_dir=_image_folder),
    'tfds:<name>': dict(dataset='tfds:fake', image_size=8),
    'unpaired_folder': dict(image_size=8, data_dir=_unpaired_folder),
    'cycle_gan/<name>': dict(dataset='cycle_gan/fake', image_size=8),
    'inverted_mnist': dict(image_size=28, data_dir=_write_mnist),
    'paired_folder': dict(image_size=8, data_dir=_paired_folder),
    'superres_mnist': dict(image_size=28, data_dir=_write_mnist),
    'superres_folder': dict(image_size=8, data=dict(held_out=1), data_dir=_image_folder),
}


def test_every_registered_dataset_is_in_the_contract_test():
  assert set(REGISTERED) == set(data.DATASETS)


@pytest.mark.parametrize('name', sorted(REGISTERED))
def test_every_source_declares_the_contract_fields(name, tmp_path, monkeypatch):
  monkeypatch.setattr(images, 'load_tfds', _fake_tfds)
  overrides = {'dataset': name, **REGISTERED[name]}
  if 'data_dir' in overrides:  # a writer of the dataset's files
    overrides['data_dir'] = overrides['data_dir'](tmp_path / 'data')
  config = _config(**overrides)
  source = data.get_source(config)
  assert isinstance(source, data.Source)
  shape = tuple(source.example_shape)
  batch = source.get_batch(1, d_steps=2, batch_size=4)
  labels = batch.pop('label', None)
  assert (labels is None) == (source.labels is None)
  if labels is not None:
    assert labels.dtype == np.int32 and labels.shape == (2, 4)
  assert set(batch) == ({'x', 'y'} if source.test is not None else {'x'})
  # A super-resolution source's inputs are `scale` times smaller than its examples.
  shapes = {'x': shape, 'y': shape}
  if source.scale is not None:
    shapes['x'] = (shape[0] // source.scale, shape[1] // source.scale) + shape[2:]
  for key, value in batch.items():
    assert value.dtype == np.float32 and value.shape == (2, 4) + shapes[key]
  # Each optional field is None or what source.Source's docstring says it is.
  if source.images is not None:
    assert source.images.dtype == np.uint8 and source.images.shape[1:] == shape
  if source.labels is not None:
    assert source.images is not None and source.labels.shape == (len(source.images),)
    assert np.issubdtype(source.labels.dtype, np.integer)
    assert len(source.class_names) == source.num_classes > source.labels.max()
  else:
    assert source.class_names is None and source.num_classes is None
  assert source.labelled is None  # only config.data.labels_per_class makes a labelled subset
  if source.test is not None:
    assert set(source.test) == {'x', 'y'}
    for key, split in source.test.items():
      assert split.dtype == np.uint8 and split.shape[1:] == shapes[key]
    np.testing.assert_array_equal(source.fixed_inputs(2)['y'],
                                  images.to_float(source.test['y'][:2]))
  else:
    with pytest.raises(ValueError, match='two-domain'):
      source.fixed_inputs(2)
  assert (source.centers is None) == (source.std is None)
  if source.centers is not None:
    assert source.centers.dtype == np.float32 and source.centers.shape[1:] == shape
    assert source.std > 0
  if shape == (1,):
    assert source.density(np.zeros(3)).shape == (3,)
  else:
    with pytest.raises(ValueError, match='1-D mixtures'):
      source.density(np.zeros(3))
  # What each kind of dataset must offer: later sources plug into these without new probes.
  assert (source.scale is not None) == (name in data.superres.DATASETS)
  if name in ('ring8', 'grid25', 'gauss1d'):
    assert source.centers is not None and source.images is None and source.test is None
  elif data.translation.is_translation_dataset(config.dataset):
    assert source.test is not None and source.images is None
  elif name in data.superres.DATASETS:
    assert source.test is not None and source.images is not None and source.scale >= 2
  else:
    assert source.images is not None and source.test is None
    assert (source.labels is not None) == (name in ('mnist', 'stacked_mnist', 'tfds:<name>'))
