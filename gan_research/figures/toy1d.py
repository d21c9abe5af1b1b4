"""1-D study: mixtures of 1, 2 and 3 Gaussians (data.synthetic.gauss1d) learnt by an MLP
generator whose hidden activation is relu, relu6, sigmoid, softplus or tanh.

python -m gan_research.figures toy1d --workdir=DIR [--options=num_steps=3000,minibatch=true]
writes DIR/figures/toy1d.png (rows: number of modes; columns: activation; histogram of G's samples
over the data density), DIR/toy1d.md / DIR/toy1d.csv (modes covered per run) and
DIR/toy1d_samples.npz (each run's samples, keyed 'K/ACTIVATION'). One compile per
activation serves the three mixtures (vmap over runs; the mixture is an input of the compiled
scan). `minibatch=true` gives D a minibatch-discrimination layer (Salimans et al. 2016).
"""
import csv
import os
import time

import numpy as np

from gan_research import config_lib, sweeps
from gan_research.data import synthetic
from gan_research.figures import toy_plots

ACTIVATIONS = ('relu', 'relu6', 'sigmoid', 'softplus', 'tanh')
NUM_MODES = (1, 2, 3)


def covered_modes(samples, centers, std, num_std=3.0, min_share=0.25):
  """Modes that receive at least `min_share` of their fair share (1 / K) of the samples lying
  within `num_std` std of them. Stricter than `metrics.mode_statistics`' captured count, which in
  1-D would count every mode reached by one stray sample of a spread-out generator."""
  samples = np.asarray(samples, np.float64).reshape(-1)
  centers = np.asarray(centers, np.float64).reshape(-1)
  distance = np.abs(samples[:, None] - centers[None, :])
  nearest = np.argmin(distance, axis=1)
  good = distance[np.arange(len(samples)), nearest] <= num_std * std
  counts = np.bincount(nearest[good], minlength=len(centers))
  return int(np.sum(counts >= min_share * len(samples) / len(centers)))


def config_for(activation, num_steps, minibatch):
  c = config_lib.base_config()
  c.dataset = 'gauss1d'
  c.model = 'mlp'
  c.generator = {'latent_dim': 1, 'hidden_sizes': (32, 32), 'activation': activation}
  c.discriminator = {'hidden_sizes': (32, 32), 'activation': 'leaky_relu'}
  if minibatch:
    c.discriminator.minibatch_kernels = 5
    c.discriminator.minibatch_kernel_dim = 3
  c.objective = 'nonsaturating'
  c.batch_size = 128
  c.num_train_steps = num_steps
  c.optimizer_g = config_lib.adam(1e-3, 0.5, 0.999)
  c.optimizer_d = config_lib.adam(1e-3, 0.5, 0.999)
  return c


def run(workdir, *, step=None, seed=0, num_samples=5000, num_steps=3000, minibatch=False,
        activations=None):
  """Trains the grid (one compile per activation, the three mixtures vmapped) and plots it."""
  del step  # trains from scratch; `num_steps` (1 to 10,000) sets the length
  if not 1 <= num_steps <= 10_000:
    raise ValueError(f'toy1d: num_steps must be in [1, 10000]; got {num_steps}.')
  activations = ([a for a in str(activations).split(',') if a] if activations
                 else list(ACTIVATIONS))
  sources = [synthetic.gauss1d(num_modes=k) for k in NUM_MODES]
  mixtures = sweeps.Mixtures.stack(sources)
  grid, rows = {}, []
  t_start = time.perf_counter()
  for activation in activations:
    runs = sweeps.ToyRuns(config_for(activation, num_steps, minibatch),
                          [seed] * len(NUM_MODES), mixtures)
    states = runs.train(num_steps, chunk=min(num_steps, 1000))
    samples = runs.sample(states, num_samples)[..., 0]
    for i, (k, source) in enumerate(zip(NUM_MODES, sources)):
      covered = covered_modes(samples[i], source.centers, source.std)
      grid[k, activation] = (samples[i], source, covered)
      rows.append({'num_modes': k, 'activation': activation, 'modes_covered': covered})
    print(f'{activation}: ' + ', '.join(f'{k} modes -> {grid[k, activation][2]} covered'
                                        for k in NUM_MODES), flush=True)
  seconds = time.perf_counter() - t_start
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, 'toy1d.csv'), 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=['num_modes', 'activation', 'modes_covered'])
    writer.writeheader()
    writer.writerows(rows)
  lines = [(f'Modes covered after {num_steps} steps (seed {seed}, D minibatch layer: '
            f'{bool(minibatch)}; {seconds:.0f} s):'), '',
           '| data modes | ' + ' | '.join(activations) + ' |',
           '|---|' + '---|' * len(activations)]
  for k in NUM_MODES:
    lines.append(f'| {k} | ' + ' | '.join(f'{grid[k, a][2]}/{k}' for a in activations) + ' |')
  with open(os.path.join(workdir, 'toy1d.md'), 'w') as f:
    f.write('\n'.join(lines) + '\n')
  print('\n'.join(lines))
  np.savez_compressed(os.path.join(workdir, 'toy1d_samples.npz'),
                      **{f'{k}/{a}': grid[k, a][0] for k, a in grid})
  path = os.path.join(workdir, 'figures', 'toy1d.png')
  toy_plots.save_density_grid(path, grid, NUM_MODES, activations,
                              title=f'{num_steps} steps' + (', minibatch D' if minibatch else ''))
  return path
