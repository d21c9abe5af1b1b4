"""Writing samples as pictures: image grids (PNG) and plots of 1-D/2-D samples."""
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
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array).save(path)


def _pyplot():
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  return plt


def save_scatter2d(path, samples, centers=None, title=''):
  """2-D samples (blue) over the true mode centres (red crosses)."""
  plt = _pyplot()
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
  plt = _pyplot()
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


def save_samples(path, samples, source=None, title=''):
  """Picks the picture for the data: a grid for images, a scatter for 2-D, a histogram for 1-D."""
  samples = np.asarray(samples)
  if samples.ndim == 4:
    save_image(path, image_grid(samples))
  elif samples.shape[-1] == 2:
    save_scatter2d(path, samples, getattr(source, 'centers', None), title)
  elif samples.shape[-1] == 1:
    save_hist1d(path, samples, getattr(source, 'density', None), title)
  else:
    raise ValueError(f'No picture for samples of shape {samples.shape}.')


def save_scatter_grid(path, panels, columns):
  """Small 2-D scatter panels (samples, centres, title), `columns` per row."""
  plt = _pyplot()
  rows = -(-len(panels) // columns)
  fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.2 * rows), dpi=70,
                           squeeze=False)
  for ax, (samples, centers, title) in zip(axes.flat, panels):
    ax.scatter(samples[:, 0], samples[:, 1], s=1, alpha=0.4)
    ax.scatter(centers[:, 0], centers[:, 1], marker='x', c='red', s=12)
    ax.set_title(title, fontsize=7)
    ax.set_aspect('equal')
    ax.set_xticks([])
    ax.set_yticks([])
  for ax in axes.flat[len(panels):]:
    ax.axis('off')
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  fig.savefig(path, bbox_inches='tight')
  plt.close(fig)


def save_density_grid(path, grid, row_keys, column_keys, title=''):
  """grid[(row, column)] = (1-D samples, source with .density, modes covered): histograms of the
  samples over the data density, one panel per cell."""
  plt = _pyplot()
  fig, axes = plt.subplots(len(row_keys), len(column_keys), squeeze=False, dpi=70,
                           figsize=(2.2 * len(column_keys), 1.7 * len(row_keys)))
  xs = np.linspace(-5, 5, 400)
  for i, r in enumerate(row_keys):
    for j, c in enumerate(column_keys):
      samples, source, covered = grid[r, c]
      ax = axes[i, j]
      ax.hist(np.clip(samples, -5, 5), bins=80, range=(-5, 5), density=True, alpha=0.6,
              color='tab:green')
      ax.plot(xs, source.density(xs), 'k', lw=1)
      ax.set_yticks([])
      ax.tick_params(labelsize=6)
      ax.set_title(f'{c}, {r} modes: {covered} covered', fontsize=7)
  fig.suptitle(f'data density (black) vs generator samples (green); {title}', fontsize=8)
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  fig.savefig(path, bbox_inches='tight')
  plt.close(fig)


def save_discriminator_panels(path, panels, data_range):
  """Goodfellow et al. 2014 Fig. 1 style: p_data (black), p_g (green), D (blue dashed),
  D* (red dotted) per training moment; panels = [(xs, p_data, p_g, d, d_star, title)]."""
  plt = _pyplot()
  fig, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels), 2.4), dpi=70,
                           squeeze=False)
  for ax, (xs, p_data, p_g, d, d_star, title) in zip(axes[0], panels):
    ax.plot(xs, p_data, 'k', lw=1, label='p_data')
    ax.plot(xs, p_g, 'g', lw=1, label='p_g')
    ax.plot(xs, d, 'b--', lw=1, label='D(x)')
    ax.plot(xs, d_star, 'r:', lw=1.2, label='D*(x)')
    ax.axhline(0.5, color='gray', lw=0.5)
    ax.axvspan(*data_range, color='gray', alpha=0.08)
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=7)
    ax.tick_params(labelsize=6)
  axes[0, 0].legend(fontsize=6, loc='upper left')
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  fig.savefig(path, bbox_inches='tight')
  plt.close(fig)
