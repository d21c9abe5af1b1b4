"""Class labels through the data layer: batches carry them, the labelled subset, the errors."""
import os

import numpy as np
import pytest
from PIL import Image

from conftest import synthetic_digits
from gan_research import config_lib, data
from gan_research.data import images
from gan_research.data.source import UNLABELLED


def _config(**kw):
  c = config_lib.base_config()
  c.update(kw)
  return c


def _digits_source(labels_per_class=0, seed=0, n=300):
  array, labels = synthetic_digits(n, seed=5)
  return images.ArraySource(array[..., None], seed=seed, labels=labels.astype(np.int32),
                            class_names=images.MNIST_CLASS_NAMES,
                            labels_per_class=labels_per_class)


def test_batches_carry_the_labels_of_their_images():
  source = _digits_source()
  batch = source.get_batch(3, d_steps=2, batch_size=8)
  idx = source.indices(3, d_steps=2, batch_size=8)
  np.testing.assert_array_equal(batch['label'], source.labels[idx])
  np.testing.assert_array_equal(batch['x'], images.to_float(source.images[idx]))
  assert set(batch) == {'x', 'label'} and batch['label'].dtype == np.int32


def test_labelled_subset_is_balanced_and_a_pure_function_of_the_seed():
  source = _digits_source(labels_per_class=4, seed=7)
  subset = source.labelled
  assert len(subset) == 40 and len(set(subset)) == 40
  np.testing.assert_array_equal(np.bincount(source.labels[subset], minlength=10), [4] * 10)
  # The same seed picks the same subset in a new process; another seed picks another.
  np.testing.assert_array_equal(_digits_source(labels_per_class=4, seed=7).labelled, subset)
  assert not np.array_equal(_digits_source(labels_per_class=4, seed=8).labelled, subset)
  # A larger N keeps no fixed relation to a smaller one but is balanced too.
  bigger = _digits_source(labels_per_class=10, seed=7).labelled
  np.testing.assert_array_equal(np.bincount(source.labels[bigger], minlength=10), [10] * 10)


def test_labelled_batches_come_from_the_subset_and_depend_only_on_seed_and_step():
  source = _digits_source(labels_per_class=20, seed=1)
  batch = source.get_batch(5, d_steps=2, batch_size=6)
  assert set(batch) == {'x', 'label', 'labelled_x', 'labelled_label'}
  # Main stream: the true label inside the subset, UNLABELLED outside it.
  idx = source.indices(5, d_steps=2, batch_size=6)
  inside = np.isin(idx, source.labelled)
  assert inside.any() and not inside.all()
  np.testing.assert_array_equal(batch['label'],
                                np.where(inside, source.labels[idx], UNLABELLED))
  # Labelled stream: images and labels of subset examples, matching each other.
  lidx = source.labelled_indices(5, d_steps=2, batch_size=6)
  assert np.isin(lidx, source.labelled).all()
  np.testing.assert_array_equal(batch['labelled_x'], images.to_float(source.images[lidx]))
  np.testing.assert_array_equal(batch['labelled_label'], source.labels[lidx])
  # Every subset example is seen once per pass over the subset (200 examples, 40 per step).
  seen = np.concatenate([source.labelled_indices(s, d_steps=1, batch_size=40).ravel()
                         for s in range(5)])
  assert sorted(seen) == sorted(source.labelled)
  # A fresh source (a resumed run) serves the same batch; processes split it.
  again = _digits_source(labels_per_class=20, seed=1).get_batch(5, d_steps=2, batch_size=6)
  for key in batch:
    np.testing.assert_array_equal(again[key], batch[key])
  halves = [source.get_batch(5, d_steps=2, batch_size=6, process_index=i, process_count=2)
            for i in range(2)]
  for key in batch:
    np.testing.assert_array_equal(np.concatenate([h[key] for h in halves], axis=1), batch[key])


def test_mnist_source_records_classes_and_takes_labels_per_class(synthetic_mnist_dir):
  config = _config(dataset='mnist', data_dir=synthetic_mnist_dir, image_size=28,
                   data=dict(labels_per_class=3))
  train = data.get_source(config, needs_labels=True)
  assert train.class_names == tuple('0123456789') and train.num_classes == 10
  np.testing.assert_array_equal(np.bincount(train.labels[train.labelled]), [3] * 10)
  test = data.get_source(config, 'test')  # the subset is a training notion: tests see all labels
  assert test.labelled is None and 'labelled_x' not in test.get_batch(0, d_steps=1, batch_size=2)


def _write(path, value):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(np.full((6, 6, 3), value, np.uint8)).save(path)


def test_image_folder_with_class_sub_folders_is_labelled(tmp_path):
  for name, value, count in (('cat', 10, 2), ('dog', 200, 3)):
    for i in range(count):
      _write(str(tmp_path / name / f'{i}.png'), value)
  _write(str(tmp_path / 'dog' / 'puppies' / 'p.png'), 201)  # nested: still class 'dog'
  source = data.get_source(_config(dataset='image_folder', data_dir=str(tmp_path),
                                   image_size=6), needs_labels=True)
  assert source.class_names == ('cat', 'dog')
  np.testing.assert_array_equal(source.labels, [0, 0, 1, 1, 1, 1])
  np.testing.assert_array_equal(source.images[:, 0, 0, 0] > 100, source.labels == 1)


def test_a_conditional_model_on_unlabelled_data_is_a_clear_error(tmp_path):
  _write(str(tmp_path / 'a.png'), 0)
  _write(str(tmp_path / 'cat' / 'b.png'), 0)
  flat = _config(dataset='image_folder', data_dir=str(tmp_path), image_size=6,
                 game='conditional')
  assert data.get_source(flat).labels is None  # fine for an unconditional model
  with pytest.raises(ValueError, match=r"image_folder .* no classes.*DIR/<class name>/<images>"):
    data.get_source(flat, needs_labels=True)
  with pytest.raises(ValueError, match=r"'conditional' needs class labels.*'ring8' has none"):
    data.get_source(_config(dataset='ring8', game='conditional'), needs_labels=True)


def test_labels_per_class_larger_than_a_class_is_a_clear_error():
  with pytest.raises(ValueError, match=r'labels_per_class=40 is larger than class \d .* has: '
                                       r'30 examples.*at most 30'):
    _digits_source(labels_per_class=40)
  with pytest.raises(ValueError, match='labels_per_class needs labelled data|needs labelled'):
    images.ArraySource(np.zeros((4, 2, 2, 1), np.uint8), labels_per_class=1)
  with pytest.raises(ValueError, match=r"config.data has options \['label_per_class'\]"):
    data.get_source(_config(dataset='image_folder', data=dict(label_per_class=2)))


def test_a_label_out_of_range_is_a_clear_error():
  array = np.zeros((4, 2, 2, 1), np.uint8)
  with pytest.raises(ValueError, match=r'Label 3 of example 2 is out of range: .* 3 classes'):
    images.ArraySource(array, labels=np.array([0, 1, 3, 2]), class_names=('a', 'b', 'c'))
  with pytest.raises(ValueError, match=r'Label -1 of example 0 is out of range'):
    images.ArraySource(array, labels=np.array([-1, 0, 0, 0]))
