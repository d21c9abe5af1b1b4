"""Truncation trick (Karras et al. 2019, Fig. 8): DIR/figures/truncation.png.

Each row is one latent at psi = 1, 0.7, 0.5, 0, -0.5, -1 (w' = w_avg + psi (w - w_avg), w_avg
the average w tracked in training): psi = 0 gives the same average image in every row, negative
psi the "opposite" image. Noise is fixed.
"""
import os

import numpy as np

from gan_research import plots, trained_stylegan

PSIS = (1.0, 0.7, 0.5, 0.0, -0.5, -1.0)


def run(workdir, *, step=None, seed=0, num_samples=None, psis=PSIS):
  model = trained_stylegan.load(workdir, step)
  rows = num_samples or 6
  z = model.z(seed, rows)
  columns = [model.synthesis(model.mapping(z, psi)) for psi in psis]
  grid = np.stack(columns, axis=1).reshape(-1, *model.generator.output_shape)
  path = os.path.join(workdir, 'figures', 'truncation.png')
  plots.save_image(path, plots.image_grid(grid, columns=len(psis)))
  return path
