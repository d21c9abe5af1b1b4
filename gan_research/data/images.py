"""Image datasets held in memory as uint8, served as float32 batches in [-1, 1].

Sources: MNIST from the four original IDX files (no TensorFlow, no download), any TFDS image
dataset (`tfds:NAME`, from a prepared data dir or downloaded by TFDS), and a folder of images.
"""
import gzip
import os
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from gan_research.data.source import UNLABELLED, Source

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp', '.tif', '.tiff')
MNIST_CLASS_NAMES = tuple(str(digit) for digit in range(10))
MNIST_FILES = {'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
               'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')}


class ArraySource(Source):
  """Examples in memory; the batch of a step is a pure function of (seed, step).

  Declares `images` (the uint8 examples) and, for labelled data, `labels`, `class_names` and,
  with `labels_per_class` > 0, `labelled` of the Source contract.

  Each epoch is a fresh permutation of the examples (seeded by (seed, epoch)), and step s takes
  the next d_steps * batch_size positions of that stream, so no iterator state needs saving. The
  labelled subset is streamed the same way, with its own permutations.
  """

  def __init__(self, images: np.ndarray, seed: int = 0, labels: Optional[np.ndarray] = None,
               class_names: Optional[Sequence[str]] = None, labels_per_class: int = 0):
    if images.dtype != np.uint8 or images.ndim != 4:
      raise ValueError(f'Expected uint8 images [N, H, W, C]; got {images.dtype} {images.shape}.')
    self.images, self.seed = images, seed
    self.example_shape = images.shape[1:]
    if labels is not None:
      self.labels, self.class_names = check_labels(labels, class_names, len(images))
    elif labels_per_class:
      raise ValueError(f'config.data.labels_per_class={labels_per_class} needs labelled data, '
                       'but this dataset has no class labels.')
    if labels_per_class:
      self.labelled = labelled_subset(self.labels, labels_per_class, seed, self.class_names)
    self._stream = EpochStream(len(images), (seed,))
    self._labelled_stream = (None if self.labelled is None else
                             EpochStream(len(self.labelled), (seed, _LABELLED_STREAM)))
    # The 'label' of each example in batches: its class, or UNLABELLED outside the subset.
    self._batch_labels = None
    if self.labels is not None:
      self._batch_labels = self.labels
      if self.labelled is not None:
        self._batch_labels = np.full(len(images), UNLABELLED, np.int32)
        self._batch_labels[self.labelled] = self.labels[self.labelled]

  def __len__(self):
    return len(self.images)

  def indices(self, step, *, d_steps, batch_size):
    """Dataset indices of the global batch of `step`, shape [d_steps, batch_size]."""
    return self._stream.indices(step, d_steps * batch_size).reshape(d_steps, batch_size)

  def labelled_indices(self, step, *, d_steps, batch_size):
    """Dataset indices of the labelled batch of `step` ([d_steps, batch_size], from `labelled`)."""
    if self.labelled is None:
      raise ValueError('This source has no labelled subset; set config.data.labels_per_class.')
    positions = self._labelled_stream.indices(step, d_steps * batch_size)
    return self.labelled[positions].reshape(d_steps, batch_size)

  def get_batch(self, step, *, d_steps, batch_size, process_index=0, process_count=1):
    local = slice(process_index * (batch_size // process_count),
                  (process_index + 1) * (batch_size // process_count))
    idx = self.indices(step, d_steps=d_steps, batch_size=batch_size)[:, local]
    batch = {'x': to_float(self.images[idx])}
    if self._batch_labels is not None:
      batch['label'] = self._batch_labels[idx]
    if self.labelled is not None:
      idx = self.labelled_indices(step, d_steps=d_steps, batch_size=batch_size)[:, local]
      batch['labelled_x'] = to_float(self.images[idx])
      batch['labelled_label'] = self.labels[idx]
    return batch


_LABELLED_STREAM = 1  # seeds the labelled subset's permutations apart from the main stream's
_SUBSET_STREAM = 2  # seeds the choice of the labelled subset


class EpochStream:
  """Positions of an endless stream over range(n): a fresh permutation per epoch, seeded by
  (*key, epoch), so any stretch of it is a pure function of the key."""

  def __init__(self, n: int, key: tuple):
    self.n, self.key = n, tuple(key)
    self._perms = {}

  def _permutation(self, epoch):
    if epoch not in self._perms:
      if len(self._perms) > 4:
        self._perms.pop(min(self._perms))
      self._perms[epoch] = np.random.default_rng(self.key + (epoch,)).permutation(self.n)
    return self._perms[epoch]

  def indices(self, step, count):
    """The `count` stream entries of `step`: positions step * count ... (step + 1) * count - 1."""
    positions = step * count + np.arange(count)
    epochs, offsets = np.divmod(positions, self.n)
    out = np.empty(count, np.int64)
    for epoch in np.unique(epochs):
      sel = epochs == epoch
      out[sel] = self._permutation(int(epoch))[offsets[sel]]
    return out


def check_labels(labels, class_names, count):
  """(labels as int32 [count], class names as a tuple of str); clear errors for bad labels.

  Without class_names the classes are 0 .. max(labels), named by their numbers.
  """
  labels = np.asarray(labels)
  if labels.shape != (count,) or not np.issubdtype(labels.dtype, np.integer):
    raise ValueError(f'Expected one integer label per example, [{count}]; got {labels.dtype} '
                     f'{labels.shape}.')
  if class_names is None:
    class_names = [str(c) for c in range(int(labels.max()) + 1 if count else 0)]
  class_names = tuple(str(name) for name in class_names)
  bad = np.flatnonzero((labels < 0) | (labels >= len(class_names)))
  if bad.size:
    raise ValueError(f'Label {int(labels[bad[0]])} of example {int(bad[0])} is out of range: the '
                     f'dataset has {len(class_names)} classes, labels 0..{len(class_names) - 1} '
                     f'({bad.size} examples out of range). Fix the labels or the class list.')
  return labels.astype(np.int32), class_names


def labelled_subset(labels, per_class: int, seed: int, class_names) -> np.ndarray:
  """Sorted indices of `per_class` examples of every class, a pure function of `seed`.

  One seeded permutation of all examples; each class keeps its first `per_class` examples in
  that order (the selection of Salimans et al. 2016's code).
  """
  if per_class < 1:
    raise ValueError(f'config.data.labels_per_class must be >= 1 (0 = all labelled); got '
                     f'{per_class}.')
  order = np.random.default_rng((seed, _SUBSET_STREAM)).permutation(len(labels))
  chosen = []
  for c, name in enumerate(class_names):
    members = order[labels[order] == c]
    if len(members) < per_class:
      raise ValueError(f'config.data.labels_per_class={per_class} is larger than class {c} '
                       f'({name!r}) has: {len(members)} examples. Lower labels_per_class to at '
                       f'most {min(np.bincount(labels, minlength=len(class_names)))}.')
    chosen.append(members[:per_class])
  return np.sort(np.concatenate(chosen))


def to_float(images: np.ndarray) -> np.ndarray:
  """uint8 [0, 255] -> float32 [-1, 1]."""
  return images.astype(np.float32) * (2.0 / 255.0) - 1.0


def to_uint8(images) -> np.ndarray:
  """float [-1, 1] -> uint8 [0, 255]."""
  return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def check_generated(images, channels, network: str) -> np.ndarray:
  """Validates NHWC float images in [-1, 1] for a feature network; returns float32 numpy.

  `channels` is the tuple of channel counts the network takes.
  """
  x = np.asarray(images)
  if x.ndim != 4 or x.shape[-1] not in channels:
    raise ValueError(f'{network} needs NHWC images with {" or ".join(map(str, channels))} '
                     f'channel(s); got shape {x.shape}.')
  if x.shape[0] == 0:
    raise ValueError(f'No images for {network} (N = 0).')
  x = x.astype(np.float32)
  if not np.all(np.isfinite(x)):
    raise ValueError('Images contain NaN or inf: the generator diverged.')
  lo, hi = float(x.min()), float(x.max())
  # A little slack for float rounding of tanh outputs; anything beyond is another scale.
  if lo < -1.01 or hi > 1.01:
    raise ValueError(f'Images must be floats in [-1, 1]; got values in [{lo:.3g}, {hi:.3g}]. '
                     'Convert uint8 images with gan_research.data.images.to_float.')
  return np.clip(x, -1.0, 1.0)


def resize(images: np.ndarray, size: int) -> np.ndarray:
  """Centre-crops to a square and resizes uint8 [N, H, W, C] images to size x size.

  28x28 -> 32x32 pads with 2 background pixels per side (the usual MNIST-at-32 set-up) instead of
  interpolating.
  """
  n, h, w, c = images.shape
  if (h, w) == (size, size):
    return images
  if (h, w) == (28, 28) and size == 32:
    return np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)))
  return np.stack([_resize_one(im, size) for im in images])


def _resize_one(image: np.ndarray, size: int) -> np.ndarray:
  h, w, c = image.shape
  side = min(h, w)
  top, left = (h - side) // 2, (w - side) // 2
  pil = Image.fromarray(image[top:top + side, left:left + side].squeeze(-1) if c == 1 else
                        image[top:top + side, left:left + side])
  out = np.asarray(pil.resize((size, size), Image.BICUBIC if size > side else Image.LANCZOS))
  return out.reshape(size, size, c)


def _find_idx(folder, name):
  for candidate in (name + '.gz', name):
    path = os.path.join(folder, candidate)
    if os.path.exists(path):
      return path
  return None


def has_mnist_idx(folder: str) -> bool:
  return bool(folder) and all(_find_idx(folder, f) for files in MNIST_FILES.values() for f in files)


def read_idx(path: str) -> np.ndarray:
  """Reads an IDX file (LeCun's MNIST format), gzipped or not."""
  opener = gzip.open if path.endswith('.gz') else open
  with opener(path, 'rb') as f:
    data = f.read()
  zero, dtype_code, ndim = data[0] * 256 + data[1], data[2], data[3]
  if zero != 0 or dtype_code != 0x08:
    raise ValueError(f'{path} is not an unsigned-byte IDX file (corrupt or not MNIST).')
  shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
  array = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
  if array.size != np.prod(shape):
    raise ValueError(f'{path} holds {array.size} values where its header promises {shape}: the '
                     'file is truncated or corrupt; fetch it again.')
  return array.reshape(shape)


def load_mnist_idx(folder: str, split: str = 'train'):
  """MNIST images [N, 28, 28, 1] uint8 and labels [N] from the four original IDX files."""
  if split not in MNIST_FILES:
    raise ValueError(f'Unknown MNIST split {split!r}; valid splits: {sorted(MNIST_FILES)}.')
  image_file, label_file = (_find_idx(folder, f) for f in MNIST_FILES[split])
  return read_idx(image_file)[..., None], read_idx(label_file).astype(np.int32)


def load_tfds(name: str, split: str, data_dir: Optional[str]):
  """(images, labels, class names) of a TFDS image dataset, read through `tfds.data_source`.

  labels and class names are None when the dataset has no 'label' feature.

  An explicit data_dir must hold the prepared dataset (no download is tried, so a wrong path fails
  at once); without one TFDS looks in its default dir and downloads and prepares if needed.
  """
  import tensorflow_datasets as tfds  # slow import; only when asked for
  try:
    source = tfds.data_source(name, split=split, data_dir=data_dir or None,
                              download=not data_dir)
  except Exception as e:  # TFDS raises several types for "not prepared and cannot download"
    hint = ('For MNIST, point --config.data_dir at a folder holding the four original IDX files '
            '(train-images-idx3-ubyte.gz, ...), e.g. --config.data_dir=../shared/data/mnist. ')
    raise FileNotFoundError(
        f'Could not load TFDS dataset {name!r} (split {split!r}, data_dir={data_dir!r}): {e}\n'
        f'{hint if name == "mnist" else ""}Otherwise prepare it where there is internet with '
        f'`tfds build {name} --file_format=array_record --data_dir=DIR` and pass '
        f'--config.data_dir=DIR.') from e
  examples = [source[i] for i in range(len(source))]
  images = np.stack([np.asarray(ex['image']) for ex in examples])
  if 'label' not in examples[0]:
    return images, None, None
  labels = np.array([ex['label'] for ex in examples], np.int32)
  return images, labels, tuple(source.dataset_info.features['label'].names)


CLASS_FOLDER_LAYOUT = 'DIR/<class name>/<images>: one sub-folder per class, no images directly in DIR'


def load_folder(folder: str, size: int, channels: int = 3):
  """All images under `folder` (recursively), centre-cropped and resized to size x size."""
  return _read_images(_image_paths(folder), size, channels)


def load_labelled_folder(folder: str, size: int, channels: int = 3):
  """(images, labels, class names) of a folder of images; labels and names None if unlabelled.

  A folder laid out as CLASS_FOLDER_LAYOUT is labelled: class c is the c-th sub-folder in sorted
  order, its images read recursively. Any other layout (images directly in `folder`) is read as
  one unlabelled set, as `load_folder` reads it.
  """
  paths = _image_paths(folder)
  classes = sorted({os.path.relpath(p, folder).split(os.sep)[0] for p in paths})
  top_level = any(os.sep not in os.path.relpath(p, folder) for p in paths)
  if top_level:
    return _read_images(paths, size, channels), None, None
  index = {name: c for c, name in enumerate(classes)}
  labels = np.array([index[os.path.relpath(p, folder).split(os.sep)[0]] for p in paths], np.int32)
  return _read_images(paths, size, channels), labels, tuple(classes)


def _image_paths(folder):
  if not folder or not os.path.isdir(folder):
    raise FileNotFoundError(f'image_folder: {folder!r} is not a directory; set '
                            '--config.data_dir to a folder of images.')
  paths = sorted(os.path.join(root, f) for root, _, files in os.walk(folder) for f in files
                 if f.lower().endswith(IMAGE_EXTENSIONS))
  if not paths:
    raise FileNotFoundError(f'image_folder: no images ({", ".join(IMAGE_EXTENSIONS)}) under '
                            f'{folder!r}.')
  return paths


def _read_images(paths, size, channels):
  images = []
  for path in paths:
    try:
      with Image.open(path) as im:
        array = np.asarray(im.convert('L' if channels == 1 else 'RGB'))
    except Exception as e:
      raise ValueError(f'image_folder: cannot read image {path}: {e}. Remove or replace the '
                       'file.') from e
    images.append(_resize_one(array.reshape(array.shape[:2] + (channels,)), size))
  return np.stack(images)
