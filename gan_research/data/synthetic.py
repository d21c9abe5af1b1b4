"""Synthetic mixtures of Gaussians: the 2-D ring and grid of PacGAN/VEEGAN and 1-D mixtures.

ring8: 8 modes evenly spaced on the unit circle, std 0.01 (PacGAN, Lin et al. 2018).
grid25: 25 modes on {-4, -2, 0, 2, 4}^2, std 0.05 (PacGAN; VEEGAN, Srivastava et al. 2017).
gauss1d: 1, 2 or 3 modes on the line (`num_modes`), spread over [-4, 4].
Samples are a pure function of (seed, step), so a resumed run sees the batches it would have seen.
"""
import numpy as np


class Mixture:
  """Equal-weight isotropic Gaussian mixture; `get_batch` draws a fresh batch per step."""
  test = None  # no held-out two-domain pairs (translation games check it)

  def __init__(self, centers, std, seed=0):
    self.centers = np.asarray(centers, np.float32)
    self.std = float(std)
    self.seed = seed
    self.example_shape = self.centers.shape[1:]

  def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
    modes = rng.integers(0, len(self.centers), n)
    noise = rng.standard_normal((n,) + self.example_shape).astype(np.float32)
    return self.centers[modes] + self.std * noise

  def density(self, x):
    """p(x) for 1-D mixtures, x of shape [N]; for plots and the optimal discriminator."""
    if self.centers.shape[1] != 1:
      raise ValueError('density() is defined here for 1-D mixtures only.')
    z = (np.asarray(x)[:, None] - self.centers[None, :, 0]) / self.std
    return np.mean(np.exp(-0.5 * z ** 2), axis=1) / (self.std * np.sqrt(2 * np.pi))

  def get_batch(self, step, *, d_steps, batch_size, process_index=0, process_count=1):
    # Draw the global batch and keep this process's slice: every process count sees the same data.
    rng = np.random.default_rng((self.seed, step))
    batch = self.sample(rng, d_steps * batch_size).reshape((d_steps, batch_size) + self.example_shape)
    local = batch_size // process_count
    return {'x': batch[:, process_index * local:(process_index + 1) * local]}


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
