"""The optimal discriminator (Goodfellow et al. 2014, Fig. 1 and Proposition 1): for a fixed G,
D*(x) = p_data(x) / (p_data(x) + p_g(x)), which is 1/2 wherever p_g = p_data.

python -m gan_research.figures optimal_d --workdir=DIR [--options=num_modes=1,num_steps=3000]
trains one 1-D GAN and, at several training moments, plots the data density, the generator's
density (Gaussian KDE of its samples), the trained D(x) and D*(x); writes DIR/figures/optimal_d.png
and DIR/optimal_d.md with mean |D - D*| and mean |D - 1/2| over the data range
(centres +- 3 std) at each moment.
"""
import os

import numpy as np

from gan_research import config_lib, sweeps
from gan_research.figures import toy_plots


def optimal_discriminator(p_data, p_g):
  """D*(x) = p_data / (p_data + p_g) (Goodfellow et al. 2014, Prop. 1); 1/2 where both are 0."""
  p_data, p_g = np.asarray(p_data, np.float64), np.asarray(p_g, np.float64)
  total = p_data + p_g
  return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)


def gaussian_kde(samples, xs, bandwidth=None):
  """Density of 1-D samples at xs, Gaussian kernel, Silverman's bandwidth by default."""
  samples = np.asarray(samples, np.float64).reshape(-1)
  if bandwidth is None:
    bandwidth = 1.06 * samples.std() * len(samples) ** (-1 / 5)
  bandwidth = max(bandwidth, 1e-3)
  z = (np.asarray(xs)[:, None] - samples[None, :]) / bandwidth
  return np.exp(-0.5 * z ** 2).mean(axis=1) / (bandwidth * np.sqrt(2 * np.pi))


def config_for(num_modes, num_steps, d_steps):
  c = config_lib.base_config()
  c.dataset = 'gauss1d'
  c.data = {'num_modes': num_modes}
  c.model = 'mlp'
  c.generator = {'latent_dim': 1, 'hidden_sizes': (32, 32), 'activation': 'tanh'}
  c.discriminator = {'hidden_sizes': (32, 32), 'activation': 'leaky_relu'}
  c.objective = 'nonsaturating'
  c.batch_size = 256
  c.d_steps = d_steps  # k of Goodfellow et al.'s Algorithm 1: keeps D near its optimum
  c.num_train_steps = num_steps
  c.optimizer_g = config_lib.adam(5e-4, 0.5, 0.999)
  c.optimizer_d = config_lib.adam(1e-3, 0.5, 0.999)
  return c


def run(workdir, *, step=None, seed=0, num_samples=20_000, num_modes=1, num_steps=3000,
        d_steps=5, moments='0;100;500;3000'):
  """Trains one run, snapshotting D and G at `moments` (steps, ';'- or ','-separated)."""
  del step
  moments = sorted({int(m) for m in str(moments).replace(';', ',').split(',') if m}
                   | {num_steps})
  moments = [m for m in moments if m <= num_steps]
  runs = sweeps.ToyRuns(config_for(num_modes, num_steps, d_steps), [seed])
  source = runs.experiment.source
  lo = float(source.centers.min()) - 3 * source.std
  hi = float(source.centers.max()) + 3 * source.std
  xs = np.linspace(lo - 1.5, hi + 1.5, 400, dtype=np.float32)
  in_range = (xs >= lo) & (xs <= hi)
  chunk = 50 if all(m % 50 == 0 for m in moments) else 1
  states, done, panels, lines = runs.init(), 0, [], []
  lines += ['| step | mean abs(D - D*) | mean abs(D - 1/2) | mean abs(D* - 1/2) |',
            '|---|---|---|---|']
  for moment in moments:
    while done < moment:
      states, _ = runs.advance(states, chunk)
      done += chunk
    samples = runs.sample(states, num_samples, seed=done)[0, :, 0]
    p_data = source.density(xs)
    p_g = gaussian_kde(samples, xs)
    d = 1.0 / (1.0 + np.exp(-runs.discriminator_logits(states, xs[:, None])[0]))
    d_star = optimal_discriminator(p_data, p_g)
    gap = float(np.mean(np.abs(d - d_star)[in_range]))
    half = float(np.mean(np.abs(d - 0.5)[in_range]))
    star_half = float(np.mean(np.abs(d_star - 0.5)[in_range]))
    lines.append(f'| {moment} | {gap:.3f} | {half:.3f} | {star_half:.3f} |')
    panels.append((xs, p_data, p_g, d, d_star,
                   f'step {moment}: mean |D-D*| = {gap:.3f}, |D-1/2| = {half:.3f}'))
  os.makedirs(workdir, exist_ok=True)
  header = (f'One 1-D GAN ({num_modes}-mode gauss1d, seed {seed}, d_steps={d_steps}); averages '
            f'over x in [{lo:.1f}, {hi:.1f}]; p_g by Gaussian KDE of {num_samples} samples.')
  with open(os.path.join(workdir, 'optimal_d.md'), 'w') as f:
    f.write(header + '\n\n' + '\n'.join(lines) + '\n')
  print(header + '\n' + '\n'.join(lines))
  path = os.path.join(workdir, 'figures', 'optimal_d.png')
  toy_plots.save_discriminator_panels(path, panels, (lo, hi))
  return path
