"""Plots of the toy figures (toy1d, optimal_d, modes2d): panels of many runs side by side.

Single sample pictures (grids, scatters, histograms) are gan_research.plots.
"""
import os

import numpy as np

from gan_research.plots import pyplot


def save_scatter_grid(path, panels, columns):
  """Small 2-D scatter panels (samples, centres, title), `columns` per row."""
  plt = pyplot()
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
  plt = pyplot()
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
  plt = pyplot()
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
