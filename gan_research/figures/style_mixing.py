"""Style mixing (Karras et al. 2019, Fig. 3): DIR/figures/style_mixing.png.

Top row: source A images; left column: source B images. Each further row copies B's styles into
every A at one band of layers: coarse (resolutions up to 8x8: pose, overall shape), middle
(16-32: finer features) and fine (64 and up: colour scheme, microstructure). Below 64x64 the bands
are the resolutions up to R/4, R/2 and R. Noise is fixed; psi truncates both sources.
"""
import os

import numpy as np

from gan_research import plots, trained_stylegan


def layer_resolution(index, resolution):
  """The resolution of the layer that reads ws[:, index] (layer 0: 4x4; the last toRGB: R)."""
  return min(4 * 2 ** ((index + 1) // 2), resolution)


def bands(num_ws, resolution):
  """{'coarse'|'middle'|'fine': ws indices}, by the resolution each layer works at."""
  coarse_max, middle_max = (8, 32) if resolution >= 64 else (resolution // 4, resolution // 2)
  out = {'coarse': [], 'middle': [], 'fine': []}
  for i in range(num_ws):
    res = layer_resolution(i, resolution)
    out['coarse' if res <= coarse_max else 'middle' if res <= middle_max else 'fine'].append(i)
  return out


def run(workdir, *, step=None, seed=0, num_samples=None, psi=1.0, rows_per_band=2):
  model = trained_stylegan.load(workdir, step)
  num_a = num_samples or 5
  num_b = 3 * rows_per_band
  ws_a = model.mapping(model.z(seed, num_a), psi)
  ws_b = model.mapping(model.z(seed + 1, num_b), psi)
  images_a = model.synthesis(ws_a)
  images_b = model.synthesis(ws_b)
  tiles = [plots.blank(images_a[0])] + list(images_a)
  resolution = model.generator.output_shape[0]
  for band, (name, layers) in enumerate(bands(model.num_ws, resolution).items()):
    for r in range(rows_per_band):
      b = band * rows_per_band + r
      mixed = np.array(ws_a)
      mixed[:, layers] = np.asarray(ws_b)[b, layers]
      tiles += [images_b[b]] + list(model.synthesis(mixed))
  path = os.path.join(workdir, 'figures', 'style_mixing.png')
  plots.save_image(path, plots.image_grid(np.stack(tiles), columns=num_a + 1))
  return path
