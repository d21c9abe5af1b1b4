"""Super-resolution side by side (Ledig et al. 2017, Figure 2 style): LR | bicubic | SRResNet |
SRGAN | HR for the first held-out images, each output titled with its PSNR (dB, luminance).

python -m gan_research.figures super_resolution --workdir=SRGAN_RUN --options=baseline=SRRESNET_RUN
writes SRGAN_RUN/figures/super_resolution.png. Both runs must share the dataset (the same test
pairs); `baseline` may be left out (no SRResNet column). The LR input is shown enlarged by pixel
repetition, so its pixels stay visible.
"""
import os

import jax
import numpy as np

from gan_research import train
from gan_research.data import images
from gan_research.metrics import superres
from gan_research.ops import resize
from gan_research.plots import pyplot


def super_resolve(experiment, state, inputs):
  """uint8 outputs of the run's (EMA) generator for float inputs in [-1, 1]."""
  game = experiment.game
  out = jax.jit(game.translate)(state.sampling_params, state.g.state, inputs)
  return images.to_uint8(jax.device_get(out))


def run(workdir, *, step=None, seed=0, num_samples=6, baseline=''):
  del seed  # deterministic: the first held-out pairs
  experiment, state = train.restore(workdir, step)
  source = experiment.source
  if source.scale is None:
    raise ValueError(f'super_resolution needs a super-resolution run (game superres); '
                     f'{workdir} trains {experiment.config.dataset!r}.')
  n = min(num_samples, len(source.test['x']))
  low, high = source.test['x'][:n], source.test['y'][:n]
  inputs = images.to_float(low)
  columns = [('LR input', np.repeat(np.repeat(low, source.scale, 1), source.scale, 2)),
             ('bicubic', images.to_uint8(resize.bicubic_upsample(inputs, source.scale)))]
  if baseline:
    base_experiment, base_state = train.restore(baseline)
    if base_experiment.config.dataset != experiment.config.dataset:
      raise ValueError(f'baseline {baseline} trains {base_experiment.config.dataset!r}, not '
                       f'{experiment.config.dataset!r}: the test pairs differ.')
    columns.append((_label(base_experiment), super_resolve(base_experiment, base_state, inputs)))
  columns.append((_label(experiment), super_resolve(experiment, state, inputs)))
  columns.append(('HR target', high))
  path = os.path.join(workdir, 'figures', 'super_resolution.png')
  _plot(path, columns, high, source.scale)
  return path


def _label(experiment):
  weight = experiment.config.game_kw.get('adversarial_weight', 1e-3)
  return 'SRResNet (MSE)' if weight == 0 else f'SRGAN (MSE + {weight:g} adv.)'


def _plot(path, columns, targets, scale):
  plt = pyplot()
  rows = len(targets)
  fig, axes = plt.subplots(rows, len(columns), squeeze=False, dpi=90,
                           figsize=(1.9 * len(columns), 2.05 * rows))
  for j, (title, pictures) in enumerate(columns):
    for i in range(rows):
      ax = axes[i, j]
      picture = pictures[i]
      ax.imshow(picture[..., 0] if picture.shape[-1] == 1 else picture, cmap='gray',
                vmin=0, vmax=255, interpolation='nearest')
      ax.set_xticks([])
      ax.set_yticks([])
      if 0 < j < len(columns) - 1:
        value = superres.fidelity(pictures[i:i + 1], targets[i:i + 1], scale)['psnr']
        ax.set_xlabel(f'{value:.1f} dB', fontsize=8)
      if i == 0:
        ax.set_title(title, fontsize=8)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  fig.savefig(path, bbox_inches='tight')
  plt.close(fig)
