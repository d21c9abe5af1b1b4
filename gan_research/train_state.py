"""All training state in one pytree, so one Orbax call saves it and one restores it."""
from typing import Any

import flax
import jax
import jax.numpy as jnp


@flax.struct.dataclass
class Player:
  """One side of the game: parameters, non-trained variables (BatchNorm statistics), optimiser."""
  params: Any
  state: Any  # e.g. {'batch_stats': ...}; {} when the model has none
  opt_state: Any


@flax.struct.dataclass
class TrainState:
  step: jax.Array  # generator updates done (each preceded by d_steps discriminator updates)
  g: Player
  d: Player
  ema_params: Any  # exponential moving average of g.params, or None when config.ema_decay == 0
  extras: Any  # game-specific state (e.g. a tracked average w, an image pool)

  @property
  def sampling_params(self):
    """The generator parameters that samples come from: the EMA ones when the run keeps them."""
    return self.g.params if self.ema_params is None else self.ema_params

  @property
  def has_ema(self) -> bool:
    return self.ema_params is not None


def split_variables(variables):
  variables = dict(variables)
  return variables.pop('params'), variables


def create(g_variables, d_variables, extras, tx_g, tx_d, use_ema: bool) -> TrainState:
  g_params, g_state = split_variables(g_variables)
  d_params, d_state = split_variables(d_variables)
  return TrainState(
      step=jnp.zeros((), jnp.int32),
      g=Player(g_params, g_state, tx_g.init(g_params)),
      d=Player(d_params, d_state, tx_d.init(d_params)),
      ema_params=jax.tree.map(jnp.copy, g_params) if use_ema else None,
      extras=extras)
