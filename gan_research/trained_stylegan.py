"""A trained StyleGAN generator and its controls, for the figures and the projector (project.py)."""
import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gan_research import games, train


@dataclasses.dataclass
class TrainedGenerator:
  """The EMA generator of a StyleGAN workdir (the raw one if the run kept no EMA)."""
  game: Any
  params: Any
  w_avg: Any
  step: int

  @property
  def generator(self):
    return self.game.generator

  @property
  def num_ws(self):
    return self.game.num_ws

  def z(self, seed, n=1):
    return jax.random.normal(jax.random.key(seed), (n, self.generator.latent_dim))

  def mapping(self, z, psi=1.0):
    """ws [N, num_ws, w_dim], truncated towards the tracked average w by psi."""
    return _mapping(self.game, self.params, z, self.w_avg, psi)

  def synthesis(self, ws, noise_mode='const', rng=None, noise=None):
    """Images in [-1, 1]; noise_mode 'const' (fixed), 'random' (from rng) or 'none'."""
    rng = jax.random.key(0) if rng is None else rng
    return np.asarray(_synthesis(self.game, self.params, ws, rng, noise_mode, noise))


@functools.partial(jax.jit, static_argnums=0)
def _mapping(game, params, z, w_avg, psi):
  return game.mapping(params, z, w_avg=w_avg, psi=psi)


@functools.partial(jax.jit, static_argnums=(0, 4))
def _synthesis(game, params, ws, rng, noise_mode, noise):
  return jnp.clip(game.synthesis(params, ws, rng, noise_mode=noise_mode, noise=noise), -1, 1)


def load(workdir, step=None) -> TrainedGenerator:
  experiment, state = train.restore(workdir, step)
  if not isinstance(experiment.game, games.StyleGAN):
    raise TypeError(f'{workdir} was trained with game {experiment.config.game!r}; this figure '
                     'needs a StyleGAN run (config.game = "stylegan").')
  params = state.sampling_params
  return TrainedGenerator(experiment.game, jax.device_get(params),
                          jax.device_get(state.extras['w_avg']), int(state.step))
