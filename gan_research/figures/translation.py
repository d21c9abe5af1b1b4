"""Translations of fixed test images (CycleGAN, Zhu et al. 2017, figures 1 and 10 style; pix2pix).

One row per test image. CycleGAN: x, G(x), F(G(x)) | y, F(y), G(F(y)) (both directions with
their reconstructions); pix2pix: x, G(x), y (input, output, ground truth). From the latest (or
--step) checkpoint, EMA generator if any. Writes DIR/figures/translation.png.
"""
import os

import jax
import numpy as np

from gan_research import plots, train


def translation_rows(experiment, state, num_rows=8):
  """[num_rows * columns, H, W, C] images in [-1, 1] in row order, and the column count."""
  game = experiment.game
  if experiment.source.scale is not None:
    # Its inputs are smaller than its outputs, so they cannot share a grid's columns.
    raise ValueError('This is a super-resolution run: its figure is `super_resolution` '
                     '(LR | bicubic | output | HR), not `translation`.')
  params = state.sampling_params
  translate = jax.jit(lambda p, s, x, d: game.translate(p, s, x, d), static_argnums=3)
  run = lambda x, d: np.asarray(jax.device_get(translate(params, state.g.state, x, d)),
                                np.float32)
  inputs = experiment.source.fixed_inputs(num_rows)
  x, y = inputs['x'], inputs['y']
  n = min(len(x), len(y))
  x, y = x[:n], y[:n]
  if isinstance(params, dict) and 'F' in params:  # CycleGAN: both directions
    g_x, f_y = run(x, 'G'), run(y, 'F')
    columns = [x, g_x, run(g_x, 'F'), y, f_y, run(f_y, 'G')]
  else:
    columns = [x, run(x, 'G'), y]
  return np.stack(columns, axis=1).reshape((-1,) + x.shape[1:]), len(columns)


def run(workdir, *, step=None, seed=0, num_samples=None):
  del seed  # deterministic: the first test images of each domain
  experiment, state = train.restore(workdir, step)
  images, columns = translation_rows(experiment, state, num_samples or 8)
  path = os.path.join(workdir, 'figures', 'translation.png')
  plots.save_image(path, plots.image_grid(images, columns=columns))
  return path
