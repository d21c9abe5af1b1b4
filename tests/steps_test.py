"""The train step's contract with games: extras flow through both losses, lazy schedules."""
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_research import games, steps, train_state
from gan_research.models import mlp


class CountingGame(games.Unconditional):
  """Records in `extras` which updates asked for their lazy regulariser."""

  def init(self, rng, x):
    g_vars, d_vars, _ = super().init(rng, x)
    zeros = jnp.zeros((), jnp.int32)
    return g_vars, d_vars, {'d_updates': zeros, 'd_regularized': zeros, 'g_regularized': zeros}

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize,
             differentiable_fakes=False):
    loss, (d_state, _, metrics) = super().d_loss(d_params, d_state, g_params, g_state, extras,
                                                 batch, rng, regularize, differentiable_fakes)
    extras = {**extras, 'd_updates': extras['d_updates'] + 1,
              'd_regularized': extras['d_regularized'] + regularize.astype(jnp.int32)}
    return loss, (d_state, extras, metrics)

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    loss, (g_state, _, metrics) = super().g_loss(g_params, g_state, d_params, d_state, extras,
                                                 batch, rng, regularize)
    extras = {**extras, 'g_regularized': extras['g_regularized'] + regularize.astype(jnp.int32)}
    return loss, (g_state, extras, metrics)


def test_extras_flow_through_both_losses_and_lazy_schedules_count_updates():
  game = CountingGame(mlp.Generator(output_shape=(2,), latent_dim=2, hidden_sizes=(8,)),
                      mlp.Discriminator(hidden_sizes=(8,)), objective='nonsaturating')
  tx = optax.sgd(1e-2)
  x = jnp.zeros((4, 2))
  state = train_state.create(*game.init(jax.random.key(0), x), tx, tx, use_ema=False)
  step = jax.jit(steps.make_train_step(game, tx, tx, d_steps=3, penalty_every=4,
                                       g_penalty_every=3))
  batch = jnp.ones((3, 4, 2))
  for _ in range(7):
    state, _ = step(state, {'x': batch}, jax.random.key(1))
  extras = jax.device_get(state.extras)
  assert extras['d_updates'] == 21  # 7 steps x 3 D updates, carried through the scan
  assert extras['d_regularized'] == len(range(0, 21, 4))  # D updates 0, 4, ..., 20
  assert extras['g_regularized'] == len(range(0, 7, 3))  # G updates 0, 3, 6
  assert int(state.step) == 7
  assert np.isfinite(jax.tree.leaves(state.g.params)[0]).all()
