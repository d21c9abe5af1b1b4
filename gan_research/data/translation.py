"""Two-domain image data for the translation games: batches {'x': domain X, 'y': domain Y}.

Datasets (`config.dataset`):
  unpaired_folder   CycleGAN's layout <data_dir>/{trainA,trainB,testA,testB} (any images; A is
                    X, B is Y). `data.train_folders` / `data.test_folders` pick other folders,
                    e.g. ('testA', 'testB') for a copy that ships only the test folders.
  cycle_gan/NAME    TFDS `cycle_gan/NAME` (splits trainA, trainB, testA, testB).
  inverted_mnist    X: MNIST digits, Y: their colour inverses 255 - x, drawn from the two disjoint
                    halves of the training set (first 30k / last 30k), so no pair is ever seen;
                    the test split pairs each test digit with its inverse (the known answer).
  paired_folder     pix2pix's layout <data_dir>/{train,val,test}/*.jpg with A|B side by side;
                    `data.direction` 'AtoB' (x = A) or 'BtoA'.

Unpaired domains are shuffled independently; paired examples keep their pairs. Training images
are loaded at `data.load_size` (default image_size), randomly cropped to image_size and flipped
left-right (`data.flip`; the same crop and flip for both halves of a pair). Like every source, the
batch of a step is a pure function of (seed, step).
"""
import os

import numpy as np
from PIL import Image

from gan_research.data import images
from gan_research.data.source import Source

DATASETS = ('unpaired_folder', 'cycle_gan/<name>', 'inverted_mnist', 'paired_folder')
_OPTIONS = ('load_size', 'flip', 'channels', 'train_folders', 'test_folders', 'direction',
            'train_split', 'test_split')


def is_translation_dataset(name: str) -> bool:
  return name in DATASETS or name.startswith('cycle_gan/')


class _Stream:
  """A fresh permutation of range(n) per epoch, seeded by (seed, stream, epoch)."""

  def __init__(self, n, seed, stream):
    self.n, self.seed, self.stream = n, seed, stream
    self._perms = {}

  def _permutation(self, epoch):
    if epoch not in self._perms:
      if len(self._perms) > 4:
        self._perms.pop(min(self._perms))
      self._perms[epoch] = np.random.default_rng((self.seed, self.stream, epoch)).permutation(
          self.n)
    return self._perms[epoch]

  def indices(self, step, count):
    positions = step * count + np.arange(count)
    epochs, offsets = np.divmod(positions, self.n)
    out = np.empty(count, np.int64)
    for epoch in np.unique(epochs):
      sel = epochs == epoch
      out[sel] = self._permutation(int(epoch))[offsets[sel]]
    return out


def _centre_crop(array, size):
  h, w = array.shape[1:3]
  top, left = (h - size) // 2, (w - size) // 2
  return array[:, top:top + size, left:left + size]


class TranslationSource(Source):
  """Domains X and Y (uint8 [N, S, S, C] at load size S) served as float batches in [-1, 1].

  paired=True: x[i] and y[i] belong together and are drawn, cropped and flipped together.
  Declares `test` of the Source contract: the test split ({'x', 'y'} uint8 at image_size) for
  sample grids and evaluators; without a test split, the centre crops of the training domains.
  """

  def __init__(self, x, y, *, image_size, seed=0, paired=False, flip=True, test=None):
    for name, array in (('x', x), ('y', y)):
      if array.dtype != np.uint8 or array.ndim != 4 or array.shape[1] < image_size:
        raise ValueError(f'Domain {name}: expected uint8 [N, S, S, C] images with S >= '
                         f'image_size={image_size}; got {array.dtype} {array.shape}.')
    if paired and len(x) != len(y):
      raise ValueError(f'Paired domains need as many x as y; got {len(x)} and {len(y)}.')
    self.x, self.y, self.image_size, self.seed = x, y, image_size, seed
    self.paired, self.flip = paired, flip
    self.example_shape = (image_size, image_size, x.shape[-1])
    self.test = test if test is not None else {'x': _centre_crop(x, image_size),
                                               'y': _centre_crop(y, image_size)}
    self._streams = [_Stream(len(x), seed, 0), _Stream(len(y), seed, 1)]

  def __len__(self):
    """Examples per epoch: the larger domain (the reference's epoch)."""
    return max(len(self.x), len(self.y))

  def _augment(self, arrays, rng):
    """The same random crop and flip for the i-th image of every array in `arrays`."""
    n, load = arrays[0].shape[0], arrays[0].shape[1]
    size = self.image_size
    tops, lefts = rng.integers(0, load - size + 1, (2, n))
    flips = rng.random(n) < 0.5 if self.flip else np.zeros(n, bool)
    outs = []
    for array in arrays:
      out = np.empty((n, size, size, array.shape[-1]), np.uint8)
      for i in range(n):
        crop = array[i, tops[i]:tops[i] + size, lefts[i]:lefts[i] + size]
        out[i] = crop[:, ::-1] if flips[i] else crop
      outs.append(out)
    return outs

  def get_batch(self, step, *, d_steps, batch_size, process_index=0, process_count=1):
    count = d_steps * batch_size
    ix = self._streams[0].indices(step, count)
    iy = ix if self.paired else self._streams[1].indices(step, count)
    if self.paired:
      x, y = self._augment([self.x[ix], self.y[iy]], np.random.default_rng((self.seed, 2, step)))
    else:
      x, = self._augment([self.x[ix]], np.random.default_rng((self.seed, 2, step)))
      y, = self._augment([self.y[iy]], np.random.default_rng((self.seed, 3, step)))
    local = batch_size // process_count
    sl = slice(process_index * local, (process_index + 1) * local)
    shape = (d_steps, batch_size) + self.example_shape
    return {'x': images.to_float(x.reshape(shape)[:, sl]),
            'y': images.to_float(y.reshape(shape)[:, sl])}


def get_source(config, split: str = 'train'):
  """The translation source named by config.dataset (see the module docstring)."""
  del split  # a translation source carries its test split (`test`) with it
  name, options = config.dataset, dict(config.data)
  unknown = set(options) - set(_OPTIONS)
  if unknown:
    raise ValueError(f'config.data has options {sorted(unknown)} that dataset {name!r} does not '
                     f'take; valid: {sorted(_OPTIONS)}.')
  size = config.image_size
  load = int(options.get('load_size', 0) or size)
  if load < size:
    raise ValueError(f'config.data.load_size ({load}) must be >= image_size ({size}).')
  flip = bool(options.get('flip', name != 'inverted_mnist'))
  channels = int(options.get('channels', 3))
  common = {'image_size': size, 'seed': config.seed, 'flip': flip}
  if name == 'inverted_mnist':
    train, test = inverted_mnist(config.data_dir, size)
    source = TranslationSource(train['x'], train['y'], test=test, **common)
    source.answer = 'colour_inverse'
    return source
  if name == 'unpaired_folder' or name.startswith('cycle_gan/'):
    if name == 'unpaired_folder':
      train_folders = tuple(options.get('train_folders', ('trainA', 'trainB')))
      test_folders = tuple(options.get('test_folders', ('testA', 'testB')))
      read = lambda folder, s: _read_domain_folder(config.data_dir, folder, s, channels)
    else:
      train_folders, test_folders = ('trainA', 'trainB'), ('testA', 'testB')
      tfds_name = name
      read = lambda split_name, s: images.resize(
          images.load_tfds(tfds_name, split_name, config.data_dir)[0], s)
    x, y = (read(f, load) for f in train_folders)
    test = None
    if tuple(test_folders) != tuple(train_folders):
      test = {k: read(f, size) for k, f in zip('xy', test_folders)}
    return TranslationSource(x, y, test=test, **common)
  if name == 'paired_folder':
    direction = options.get('direction', 'AtoB')
    if direction not in ('AtoB', 'BtoA'):
      raise ValueError(f"config.data.direction must be 'AtoB' or 'BtoA'; got {direction!r}.")
    a, b = load_paired_folder(config.data_dir, options.get('train_split', 'train'), load,
                              channels)
    test_split = options.get('test_split', 'test')
    test = None
    if os.path.isdir(os.path.join(config.data_dir, test_split)):
      ta, tb = load_paired_folder(config.data_dir, test_split, size, channels)
      test = {'x': ta, 'y': tb} if direction == 'AtoB' else {'x': tb, 'y': ta}
    x, y = (a, b) if direction == 'AtoB' else (b, a)
    return TranslationSource(x, y, paired=True, test=test, **common)
  raise ValueError(f'Unknown translation dataset {name!r}; valid: {list(DATASETS)}.')


def _read_domain_folder(root, folder, size, channels):
  path = os.path.join(root or '', folder)
  if not os.path.isdir(path):
    present = sorted(os.listdir(root)) if root and os.path.isdir(root) else []
    raise FileNotFoundError(
        f'unpaired_folder: {path!r} is not a directory (--config.data_dir={root!r} holds '
        f'{present}). The layout is <data_dir>/{{trainA,trainB,testA,testB}}; a copy with only '
        "the test folders trains with config.data.train_folders = ('testA', 'testB') "
        '(experiments/cyclegan.py:dataset=monet2photo does that for its copy).')
  return images.load_folder(path, size, channels)


def inverted_mnist(data_dir, size):
  """({'x', 'y'} train, {'x', 'y'} test) uint8: digits and inverses (disjoint halves in train)."""
  if images.has_mnist_idx(data_dir):
    train, test = (images.load_mnist_idx(data_dir, s)[0] for s in ('train', 'test'))
  else:
    train, test = (images.load_tfds('mnist', s, data_dir)[0] for s in ('train', 'test'))
  train, test = images.resize(train, size), images.resize(test, size)
  half = len(train) // 2
  return ({'x': train[:half], 'y': 255 - train[half:]}, {'x': test, 'y': 255 - test})


def load_paired_folder(root, split, size, channels=3):
  """(A, B) uint8 [N, size, size, C] from the side-by-side A|B images in <root>/<split>/."""
  folder = os.path.join(root or '', split)
  if not os.path.isdir(folder):
    raise FileNotFoundError(f'paired_folder: {folder!r} is not a directory; set --config.data_dir '
                            'to a pix2pix dataset root holding train/ (and val/ or test/).')
  paths = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                 if f.lower().endswith(images.IMAGE_EXTENSIONS))
  if not paths:
    raise FileNotFoundError(f'paired_folder: no images under {folder!r}.')
  a, b = [], []
  for path in paths:
    try:
      with Image.open(path) as im:
        array = np.asarray(im.convert('L' if channels == 1 else 'RGB'))
    except Exception as e:  # PIL raises several types for truncated or non-image files
      raise ValueError(f'paired_folder: cannot read image {path}: {e}. Remove or replace the '
                       'file.') from e
    array = array.reshape(array.shape[:2] + (channels,))
    half = array.shape[1] // 2
    if half == 0 or array.shape[1] % 2:
      raise ValueError(f'paired_folder: {path} is {array.shape[1]} pixels wide; pix2pix images '
                       'hold A and B side by side (even width).')
    for out, part in ((a, array[:, :half]), (b, array[:, half:])):
      out.append(images.resize(part[None], size)[0])
  return np.stack(a), np.stack(b)
