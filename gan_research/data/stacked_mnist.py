"""Stacked MNIST (Metz et al. 2017; VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018).

Each example is a 28x28x3 image whose three channels are three MNIST digits drawn independently
and uniformly from the split, so the data has 10^3 = 1000 equally likely modes (digit triples).
A generator's coverage of them is the `stacked_mnist` evaluator's count.

Every batch is a fresh draw: the digits of step s come from a generator seeded by (seed, step), so
batches need no stored order and a resumed run reads the same data. `images` is a fixed draw of
as many stacked images as the split has digits (seeded by `seed` alone), the real reference of
the image metrics; `labels` is each of its modes, 100 * d0 + 10 * d1 + d2, and batches carry
their examples' modes as 'label' (the data contract's class labels: 1000 classes named 'd0d1d2').
"""
import numpy as np

from gan_research.data import images as image_data
from gan_research.data.source import Source

CHANNELS = 3
CLASS_NAMES = tuple(f'{mode:03d}' for mode in range(10 ** CHANNELS))
# The reference draw is seeded by (seed, *this): three numbers, where every batch's seed is the
# two (seed, step), so its stream is never one of theirs.
_REFERENCE_STREAM = (0, 1)


def stack(digits: np.ndarray, indices: np.ndarray) -> np.ndarray:
  """uint8 digits [N, H, W, 1] and indices [..., 3] -> stacked images [..., H, W, 3]."""
  return np.moveaxis(digits[indices, ..., 0], -3, -1)


def modes_of(labels: np.ndarray, indices: np.ndarray) -> np.ndarray:
  """The digit triple of each stacked image as one mode id, 100 * d0 + 10 * d1 + d2."""
  return labels[indices] @ np.array([100, 10, 1])


class StackedMNISTSource(Source):
  """Stacked MNIST served from MNIST digits [N, 28, 28, 1] and their labels [N]."""
  class_names = CLASS_NAMES

  def __init__(self, digits: np.ndarray, digit_labels: np.ndarray, seed: int = 0):
    if digits.dtype != np.uint8 or digits.ndim != 4 or digits.shape[-1] != 1:
      raise ValueError(f'Stacked MNIST needs uint8 grey digits [N, H, W, 1]; got {digits.dtype} '
                       f'{digits.shape}.')
    if digit_labels is None or len(digit_labels) != len(digits):
      raise ValueError('Stacked MNIST needs one label per digit (MNIST with labels).')
    self.digits, self.digit_labels, self.seed = digits, np.asarray(digit_labels), seed
    self.example_shape = digits.shape[1:3] + (CHANNELS,)
    self._images = None

  def draw(self, rng: np.random.Generator, shape) -> np.ndarray:
    """Indices [*shape, 3] of the digits of shape stacked images: independent per channel."""
    return rng.integers(0, len(self.digits), size=tuple(shape) + (CHANNELS,))

  def get_batch(self, step, *, d_steps, batch_size, process_index=0, process_count=1):
    local = batch_size // process_count
    indices = self.draw(np.random.default_rng((self.seed, step)), (d_steps, batch_size))
    indices = indices[:, process_index * local:(process_index + 1) * local]
    return {'x': image_data.to_float(stack(self.digits, indices)),
            'label': modes_of(self.digit_labels, indices).astype(np.int32)}

  def _reference(self):
    if self._images is None:
      indices = self.draw(np.random.default_rng((self.seed, *_REFERENCE_STREAM)),
                          (len(self.digits),))
      self._images = (stack(self.digits, indices), modes_of(self.digit_labels, indices))
    return self._images

  @property
  def images(self):
    return self._reference()[0]

  @property
  def labels(self):
    return self._reference()[1]
