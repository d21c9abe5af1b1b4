"""The data-source contract: what the trainer, games, evaluators and figures may ask of a source.

Every source derives from `Source`. What only some sources offer is *declared* here with a
default, so generic code writes `if source.test is None:` instead of probing with hasattr; a new
kind of source (labelled, paired, ...) fills in the fields it has and inherits the rest.
"""
import abc
from typing import Optional

import numpy as np

UNLABELLED = -1  # the 'label' of an example outside the labelled subset


class Source(abc.ABC):
  """A dataset served as batches whose content is a pure function of (seed, step).

  Required of every source:
    example_shape   shape of one training example: (H, W, C) for images, (D,) for vectors.
    get_batch(step, *, d_steps, batch_size, process_index=0, process_count=1)
                    -> {'x': float32 [d_steps, batch_size // process_count, *example_shape]}
                    (two-domain sources add 'y': of the same shape, or for super-resolution
                    'x' is the low-resolution input and 'y' the example); images in [-1, 1]. The
                    global batch of a step depends only on (seed, step), so resuming needs no
                    iterator state, and process i keeps its own slice of it.
                    Class labels travel under their own key, never 'y' (which two-domain sources
                    use for the second domain's images): a source with `labels` adds
                    'label': int32 [d_steps, batch_size // process_count], the class of each x,
                    UNLABELLED (-1) for an example outside the labelled subset. A source with a
                    labelled subset (`labelled` not None; data.labels_per_class) also adds a
                    batch drawn from that subset alone, of the same size:
                    'labelled_x' (like 'x') and 'labelled_label' (int32, never UNLABELLED).

  Optional capabilities (None, or raising, where a source does not have them):
    images    uint8 [N, H, W, C] held in memory: the examples themselves, which image metrics
              take as their real reference data.
    labels    int32 [N] class labels aligned with `images` (index i labels images[i]), each in
              [0, len(class_names)): every label the data has, the labelled subset or not.
    class_names  tuple of str, the name of each class (label c is class_names[c]): digits,
              TFDS label names, or the sub-folder names of an image folder.
    labelled  int64 [L] sorted indices into `images` of the labelled subset (N per class, a
              pure function of the seed), or None when every example counts as labelled.
    test      held-out pairs of a two-domain source: {'x': uint8 [M, H, W, C] domain X,
              'y': uint8 [M, H, W, C] domain Y}; for paired data y[i] is the answer for x[i]
              (a super-resolution source's x is smaller than y by its scale).
    scale     int: a super-resolution source's 'y' is `scale` times larger than its 'x'.
    answer    str naming the known right translation of every `test` input, which the
              `translation` evaluator measures against: 'colour_inverse' (inverted_mnist, where
              y = 255 - x). None for data whose right answer is unknown (photos, paintings).
    centers   float32 [K, D] mode centres of a Gaussian mixture.
    std       float, the per-coordinate standard deviation of each mixture component.
    density(x)     p(x) at points x [N]; defined for 1-D mixtures only.
    fixed_inputs(n)  the first n `test` images of each domain as floats in [-1, 1].
  """
  example_shape: tuple
  images: Optional[np.ndarray] = None
  labels: Optional[np.ndarray] = None
  class_names: Optional[tuple] = None
  labelled: Optional[np.ndarray] = None
  test: Optional[dict] = None
  centers: Optional[np.ndarray] = None
  std: Optional[float] = None
  scale: Optional[int] = None
  answer: Optional[str] = None

  @property
  def num_classes(self) -> Optional[int]:
    """len(class_names), or None for a source without class labels."""
    return None if self.class_names is None else len(self.class_names)

  @abc.abstractmethod
  def get_batch(self, step, *, d_steps, batch_size, process_index=0, process_count=1) -> dict:
    """The slice of process `process_index` of the global batch of `step` (see the class)."""

  def density(self, x) -> np.ndarray:
    """p(x) for x of shape [N]; only 1-D mixtures have a density here."""
    raise ValueError(f'{type(self).__name__} has no density: density() is defined for 1-D '
                     'mixtures (gauss1d) only.')

  def fixed_inputs(self, n) -> dict:
    """{'x', 'y'}: the first n images of each test domain (fewer if the split is smaller)."""
    if self.test is None:
      raise ValueError(f'{type(self).__name__} has no test pairs; fixed inputs need a two-domain '
                       'dataset (inverted_mnist, unpaired_folder, cycle_gan/NAME, '
                       'paired_folder).')
    # images.to_float's scaling, uint8 [0, 255] -> [-1, 1] (images.py imports this module).
    return {k: v[:n].astype(np.float32) * (2.0 / 255.0) - 1.0 for k, v in self.test.items()}
