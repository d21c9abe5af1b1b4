"""Writing samples as pictures: image grids (PNG) and plots of 1-D/2-D samples.

The trainer's sample grids (train.py) and the figures (gan_research/figures/) both draw with it.
"""
import math
import os

import numpy as np
from PIL import Image

from gan_research.data.images import to_uint8


def image_grid(images, columns=None) -> np.ndarray:
  """[N, H, W, C] images in [-1, 1] -> one uint8 grid image with a 1-pixel border."""
  images = to_uint8(images)
  n, h, w, c = images.shape
  columns = columns or math.ceil(math.sqrt(n))
  rows = math.ceil(n / columns)
  grid = np.full((rows * (h + 1) + 1, columns * (w + 1) + 1, c), 255, np.uint8)
  for i, image in enumerate(images):
    r, col = divmod(i, columns)
    grid[1 + r * (h + 1):1 + r * (h + 1) + h, 1 + col * (w + 1):1 + col * (w + 1) + w] = image
  return grid


def save_image(path, array):
  """Writes a uint8 [H, W, C] array as an image file (PNG by the path's extension)."""
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array).save(path)


def pyplot():
  """matplotlib.pyplot on the file-only Agg backend (no display on training hosts)."""
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  return plt


def save_scatter2d(path, samples, centers=None, title=''):
  """2-D samples (blue) over the true mode centres (red crosses)."""
  plt = pyplot()
  fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
  ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.5, label='generated')
  if centers is not None:
    ax.scatter(centers[:, 0], centers[:, 1], marker='x', c='red', s=40, label='true modes')
  ax.set_aspect('equal')
  ax.set_title(title)
  ax.legend(loc='upper right', fontsize=7)
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  fig.savefig(path, bbox_inches='tight')
  plt.close(fig)


def save_hist1d(path, samples, density_fn=None, title=''):
  """Histogram of 1-D samples with the data density."""
  plt = pyplot()
  fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
  samples = np.asarray(samples).reshape(-1)
  ax.hist(samples, bins=100, density=True, alpha=0.6, label='generated')
  if density_fn is not None:
    xs = np.linspace(samples.min() - 1, samples.max() + 1, 400)
    ax.plot(xs, density_fn(xs), 'r', label='data density')
  ax.set_title(title)
  ax.legend(fontsize=7)
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  fig.savefig(path, bbox_inches='tight')
  plt.close(fig)


def save_samples(path, samples, source, title=''):
  """Picks the picture for the data: a grid for images, a scatter for 2-D, a histogram for 1-D.

  A mixture source (`source.centers` set) adds its mode centres (2-D) or its density (1-D).
  """
  samples = np.asarray(samples)
  if samples.ndim == 4:
    save_image(path, image_grid(samples))
  elif samples.shape[-1] == 2:
    save_scatter2d(path, samples, source.centers, title)
  elif samples.shape[-1] == 1:
    save_hist1d(path, samples, None if source.centers is None else source.density, title)
  else:
    raise ValueError(f'No picture for samples of shape {samples.shape}.')


def blank(like, value=1.0):
  """An empty (white) tile the size of one image."""
  return np.full(like.shape[-3:], value, np.float32)
