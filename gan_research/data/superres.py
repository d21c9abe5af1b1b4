"""Super-resolution pairs made on the fly: batches {'x': low-resolution input, 'y': the
high-resolution image it was made from}.

Datasets (`config.dataset`; `config.image_size` is the high-resolution size):
  superres_mnist    MNIST digits (28x28 with scale 4: 7x7 -> 28x28); the test split is MNIST's.
  superres_folder   every image under `data_dir` (recursively, sorted by path), loaded at
                    `data.load_size` (default image_size); the last `data.held_out` images are
                    the test split, the others are trained on as random image_size crops.
Options (`config.data`): scale (4), flip (random left-right flips; default on for folders),
load_size, held_out (10), channels (3; MNIST has 1).

The input is the target shrunk by `scale` with the anti-aliased bicubic kernel of MATLAB's
imresize (ops/resize.py), rounded to uint8 as the LR images of the SR benchmarks are stored, then
scaled to [-1, 1] like every image here. Like every source, the batch of a step is a pure function
of (seed, step).
"""
import os

import numpy as np

from gan_research.data import images
from gan_research.data.source import Source
from gan_research.ops import resize

DATASETS = ('superres_mnist', 'superres_folder')
_OPTIONS = ('scale', 'flip', 'load_size', 'held_out', 'channels')
_CHUNK = 500  # images per compiled downsampling call (one shape, one compilation)


def downsample_uint8(hr: np.ndarray, scale: int) -> np.ndarray:
  """uint8 [N, H, W, C] -> uint8 [N, H/scale, W/scale, C]: bicubic (imresize) then rounding."""
  n = len(hr)
  chunk = min(n, _CHUNK)
  out = []
  for start in range(0, n, chunk):
    part = hr[start:start + chunk]
    pad = chunk - len(part)
    if pad:
      part = np.concatenate([part, np.zeros((pad,) + part.shape[1:], part.dtype)])
    low = np.asarray(resize.bicubic_downsample(part.astype(np.float32), scale))
    out.append(low[:chunk - pad])
  return np.clip(np.round(np.concatenate(out)), 0, 255).astype(np.uint8)


class SuperResSource(Source):
  """High-resolution uint8 images (train at load size, test at image_size) and their LR inputs.

  Declares `scale`, `images` (the high-resolution images of the split it was built for, at image_size:
  the real reference of the image metrics) and `test` ({'x': LR uint8 [M, h, w, C], 'y': HR uint8
  [M, H, W, C]}, y[i] the answer for x[i]).
  """

  def __init__(self, train, test, *, image_size, scale, seed=0, flip=False, split='train'):
    for name, array in (('train', train), ('test', test)):
      if array.dtype != np.uint8 or array.ndim != 4 or min(array.shape[1:3]) < image_size:
        raise ValueError(f'superres: {name} images must be uint8 [N, S, S, C] with S >= '
                         f'image_size={image_size}; got {array.dtype} {array.shape}.')
      if not len(array):
        raise ValueError(f'superres: the {name} split holds no images.')
    resize.check_scale(image_size, image_size, scale)
    self.scale, self.image_size, self.seed, self.flip = int(scale), image_size, seed, flip
    self.train = train
    self.example_shape = (image_size, image_size, train.shape[-1])
    test = _centre_crop(test, image_size)
    self.test = {'x': downsample_uint8(test, self.scale), 'y': test}
    self.images = test if split == 'test' else _centre_crop(train, image_size)
    self._order = images.ArraySource(train, seed=seed)  # the epoch permutations

  def __len__(self):
    return len(self.train)

  def get_batch(self, step, *, d_steps, batch_size, process_index=0, process_count=1):
    index = self._order.indices(step, d_steps=d_steps, batch_size=batch_size).reshape(-1)
    hr = self._crop_and_flip(self.train[index], np.random.default_rng((self.seed, 2, step)))
    lr = downsample_uint8(hr, self.scale)
    local = batch_size // process_count
    sl = slice(process_index * local, (process_index + 1) * local)
    return {'x': images.to_float(lr.reshape((d_steps, batch_size) + lr.shape[1:])[:, sl]),
            'y': images.to_float(hr.reshape((d_steps, batch_size) + hr.shape[1:])[:, sl])}

  def _crop_and_flip(self, hr, rng):
    n, load, size = len(hr), hr.shape[1], self.image_size
    tops, lefts = rng.integers(0, load - size + 1, (2, n))
    flips = rng.random(n) < 0.5 if self.flip else np.zeros(n, bool)
    out = np.empty((n, size, size, hr.shape[-1]), np.uint8)
    for i in range(n):
      crop = hr[i, tops[i]:tops[i] + size, lefts[i]:lefts[i] + size]
      out[i] = crop[:, ::-1] if flips[i] else crop
    return out


def _centre_crop(array, size):
  h, w = array.shape[1:3]
  top, left = (h - size) // 2, (w - size) // 2
  return array[:, top:top + size, left:left + size]


def get_source(config, split: str = 'train'):
  """The super-resolution source named by config.dataset (see the module docstring)."""
  name, options = config.dataset, dict(config.data)
  unknown = set(options) - set(_OPTIONS)
  if unknown:
    raise ValueError(f'config.data has options {sorted(unknown)} that dataset {name!r} does not '
                     f'take; valid: {sorted(_OPTIONS)}.')
  size, scale = config.image_size, int(options.get('scale', 4))
  load = int(options.get('load_size', 0) or size)
  if load < size:
    raise ValueError(f'config.data.load_size ({load}) must be >= image_size ({size}).')
  common = {'image_size': size, 'scale': scale, 'seed': config.seed, 'split': split}
  if name == 'superres_mnist':
    if images.has_mnist_idx(config.data_dir):
      train, test = (images.load_mnist_idx(config.data_dir, s)[0] for s in ('train', 'test'))
    else:
      train, test = (images.load_tfds('mnist', s, config.data_dir)[0] for s in ('train', 'test'))
    train, test = images.resize(train, load), images.resize(test, size)
    return SuperResSource(train, test, flip=bool(options.get('flip', False)), **common)
  if name == 'superres_folder':
    if not config.data_dir or not os.path.isdir(config.data_dir):
      raise FileNotFoundError(f'superres_folder: --config.data_dir={config.data_dir!r} is not a '
                              'directory; point it at a folder of high-resolution images.')
    held_out = int(options.get('held_out', 10))
    everything = images.load_folder(config.data_dir, load, int(options.get('channels', 3)))
    if not 1 <= held_out < len(everything):
      raise ValueError(f'superres_folder: held_out={held_out} must be in [1, {len(everything)}) '
                       f'for the {len(everything)} images under {config.data_dir!r}.')
    return SuperResSource(everything[:-held_out], everything[-held_out:],
                          flip=bool(options.get('flip', True)), **common)
  raise ValueError(f'Unknown super-resolution dataset {name!r}; valid: {list(DATASETS)}.')
