"""Stochastic variation (Karras et al. 2019, Fig. 4): DIR/figures/noise.png.

Each row keeps one w and resamples the per-pixel noise: `num_samples` images, then the
per-pixel standard deviation over `num_draws` noise draws (white = most variation, scaled per
row), which shows what the noise controls (strokes' edges, texture), not the identity.
"""
import os

import jax
import numpy as np

from gan_research import plots, trained_stylegan


def run(workdir, *, step=None, seed=0, num_samples=None, psi=1.0, num_rows=4, num_draws=32):
  model = trained_stylegan.load(workdir, step)
  shown = num_samples or 6
  ws = np.asarray(model.mapping(model.z(seed, num_rows), psi))
  rows = []
  for r in range(num_rows):
    same_w = np.broadcast_to(ws[r], (num_draws,) + ws.shape[1:])
    images = model.synthesis(same_w, noise_mode='random',
                             rng=jax.random.fold_in(jax.random.key(seed), r))
    std = images.std(axis=0).mean(axis=-1, keepdims=True)
    std_map = std / max(float(std.max()), 1e-8) * 2.0 - 1.0
    std_map = np.broadcast_to(std_map, images.shape[1:])
    rows += list(images[:shown]) + [std_map]
  path = os.path.join(workdir, 'figures', 'noise.png')
  plots.save_image(path, plots.image_grid(np.stack(rows), columns=shown + 1))
  return path
