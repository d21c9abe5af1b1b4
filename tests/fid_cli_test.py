"""python -m gan_research.fid without a network: what each argument kind loads, and the order of
features when a folder mixes image sizes (tests/fid_test.py runs the real network)."""
import numpy as np
import pytest
from PIL import Image

from gan_research import fid
from gan_research.metrics.extractors import Features


def write_image(path, size, value, mode='RGB'):
  path.parent.mkdir(parents=True, exist_ok=True)
  Image.fromarray(np.full((size, size, 3), value, np.uint8)).convert(mode).save(path)


def test_folder_is_read_recursively_in_sorted_order_as_rgb(tmp_path):
  write_image(tmp_path / 'b' / 'x.png', 8, 30)
  write_image(tmp_path / 'a.png', 16, 10, mode='L')  # grey files come back as RGB
  write_image(tmp_path / 'c.jpg', 8, 200)
  (tmp_path / 'notes.txt').write_text('not an image')
  images, kind = fid.load(str(tmp_path))
  assert kind == 'folder'
  assert [im.shape for im in images] == [(16, 16, 3), (8, 8, 3), (8, 8, 3)]
  assert [int(im[0, 0, 0]) for im in images[:2]] == [10, 30]
  assert len(fid.load(str(tmp_path), num=2)[0]) == 2


def test_features_keep_input_order_across_image_sizes():
  images = [np.full((size, size, 3), i, np.uint8) for i, size in enumerate((8, 16, 8, 16, 8))]

  def extractor(x):  # a feature per image: its first pixel, back in [0, 255]
    return Features(np.round((x[:, :1, 0, 0] + 1) * 127.5), None)

  np.testing.assert_array_equal(fid.features(extractor, images, chunk=2)[:, 0], np.arange(5))


def test_dataset_name_and_unknown_arguments(mnist_dir, tmp_path):
  images, kind = fid.load('mnist', num=5, data_dir=mnist_dir, image_size=28)
  assert kind == 'dataset' and images.shape == (5, 28, 28, 1) and images.dtype == np.uint8
  with pytest.raises(ValueError, match='neither a folder of images'):
    fid.load('no_such_dataset')
  with pytest.raises(FileNotFoundError, match='No images'):
    fid.load(str(tmp_path))
