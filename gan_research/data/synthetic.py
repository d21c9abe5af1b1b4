"""Synthetic mixtures of Gaussians: the 2-D ring and grid of PacGAN/VEEGAN and 1-D mixtures.

ring8: 8 modes evenly spaced on the unit circle, std 0.01 (PacGAN, Lin et al. 2018).
grid25: 25 modes on {-4, -2, 0, 2, 4}^2, std 0.05 (PacGAN; VEEGAN, Srivastava et al. 2017).
gauss1d: 1, 2 or 3 modes on the line (`num_modes`), spread over [-4, 4].
Samples are a pure function of (seed, step), so a resumed run sees the batches it would have seen.
The trainer's batches (`Mixture.get_batch`) and the toy sweeps' (gan_research.sweeps, inside their
compiled scan) come from one sampler, `sample_mixture`, under one key, `batch_key(seed, step)`: a
run of the sweeps or of the interactive playground is the run `main` trains from the same config.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from gan_research.data.source import Source


class Mixture(Source):
  """Equal-weight isotropic Gaussian mixture; `get_batch` draws a fresh batch per step.

  Declares `centers` [K, D] and `std` of the Source contract, and `density` when D = 1.
  """

  def __init__(self, centers, std, seed=0):
    self.centers = np.asarray(centers, np.float32)
    self.std = float(std)
    self.seed = seed
    self.example_shape = self.centers.shape[1:]

  def density(self, x):
    """p(x) for 1-D mixtures, x of shape [N]; for plots and the optimal discriminator."""
    if self.centers.shape[1] != 1:
      return super().density(x)  # raises: no density of 2-D mixtures here
    z = (np.asarray(x)[:, None] - self.centers[None, :, 0]) / self.std
    return np.mean(np.exp(-0.5 * z ** 2), axis=1) / (self.std * np.sqrt(2 * np.pi))

  def get_batch(self, step, *, d_steps, batch_size, process_index=0, process_count=1):
    # Draw the global batch and keep this process's slice: every process count sees the same data.
    batch = np.asarray(_sample_batch(batch_key(data_key(self.seed), step), self.centers,
                                     len(self.centers), self.std, (d_steps, batch_size)))
    local = batch_size // process_count
    return {'x': batch[:, process_index * local:(process_index + 1) * local]}


def data_key(seed):
  """The root key of a run's data stream (the sweeps derive their init and train keys from the
  same `jax.random.key(seed)` with 0 and 1, as train.py does)."""
  return jax.random.fold_in(jax.random.key(seed), 2)


def batch_key(key, step):
  """The key of the batch of `step` (0-based: the batch of the update that makes it step + 1)."""
  return jax.random.fold_in(key, step)


def sample_mixture(rng, centers, num_modes, std, shape):
  """Samples [*shape, D] of an equal-weight mixture of the first `num_modes` rows of centers
  [K, D] (jax; rows past num_modes are padding, so mixtures of different K can be stacked and
  vmapped). The mode is uniform over the real ones (randint with a traced bound), so padding
  does not change the draws: a mixture gives the same batches padded or not."""
  mode_rng, noise_rng = jax.random.split(rng)
  modes = jax.random.randint(mode_rng, shape, 0, num_modes)
  noise = jax.random.normal(noise_rng, shape + centers.shape[1:])
  return centers[modes] + std * noise


@functools.partial(jax.jit, static_argnums=4)
def _sample_batch(rng, centers, num_modes, std, shape):
  return sample_mixture(rng, jnp.asarray(centers), num_modes, std, shape)


def ring8(seed=0, std=0.01, radius=1.0):
  angles = 2 * np.pi * np.arange(8) / 8
  return Mixture(radius * np.stack([np.cos(angles), np.sin(angles)], axis=1), std, seed)


def grid25(seed=0, std=0.05):
  values = np.arange(-4, 5, 2)
  return Mixture(np.stack(np.meshgrid(values, values), axis=-1).reshape(-1, 2), std, seed)


GAUSS1D_CENTERS = {1: [0.0], 2: [-2.0, 2.0], 3: [-3.0, 0.0, 3.0]}


def gauss1d(seed=0, num_modes=2, std=0.5):
  if num_modes not in GAUSS1D_CENTERS:
    raise ValueError(f'gauss1d supports num_modes in {sorted(GAUSS1D_CENTERS)}; got {num_modes}.')
  return Mixture(np.array(GAUSS1D_CENTERS[num_modes])[:, None], std, seed)
