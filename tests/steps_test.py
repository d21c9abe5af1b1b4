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
             grad_into_generator=False):
    loss, (d_state, _, metrics) = super().d_loss(d_params, d_state, g_params, g_state, extras,
                                                 batch, rng, regularize, grad_into_generator)
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


class BatchRecordingGame(games.Unconditional):
  """Records in `extras` the batch slice each update saw (slice j of the batch is filled with j)."""

  def __init__(self, *args, num_updates, **kwargs):
    super().__init__(*args, **kwargs)
    self.num_updates = num_updates

  def init(self, rng, x):
    g_vars, d_vars, _ = super().init(rng, x)
    return g_vars, d_vars, {'count': jnp.zeros((), jnp.int32),
                            'd_seen': jnp.full((self.num_updates,), -1.0),
                            'g_seen': jnp.full((self.num_updates,), -1.0)}

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize):
    loss, (d_state, _, metrics) = super().d_loss(d_params, d_state, g_params, g_state, extras,
                                                 batch, rng, regularize)
    seen = extras['d_seen'].at[extras['count']].set(jnp.mean(batch['x']))
    return loss, (d_state, {**extras, 'count': extras['count'] + 1, 'd_seen': seen}, metrics)

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    loss, (g_state, _, metrics) = super().g_loss(g_params, g_state, d_params, d_state, extras,
                                                 batch, rng, regularize)
    seen = extras['g_seen'].at[extras['count'] - 1].set(jnp.mean(batch['x']))
    return loss, (g_state, {**extras, 'g_seen': seen}, metrics)


def test_each_d_update_of_a_step_sees_its_own_slice_of_the_batch():
  d_steps, num_steps = 3, 2
  game = BatchRecordingGame(mlp.Generator(output_shape=(2,), latent_dim=2, hidden_sizes=(8,)),
                            mlp.Discriminator(hidden_sizes=(8,)), objective='nonsaturating',
                            num_updates=d_steps * num_steps)
  tx = optax.sgd(1e-2)
  state = train_state.create(*game.init(jax.random.key(0), jnp.zeros((4, 2))), tx, tx,
                             use_ema=False)
  step = jax.jit(steps.make_train_step(game, tx, tx, d_steps=d_steps))
  # Slice j of step s holds the value 10 s + j in every entry.
  for s in range(num_steps):
    batch = 10.0 * s + jnp.broadcast_to(jnp.arange(d_steps, dtype=jnp.float32)[:, None, None],
                                         (d_steps, 4, 2))
    state, _ = step(state, {'x': batch}, jax.random.key(1))
  extras = jax.device_get(state.extras)
  np.testing.assert_array_equal(extras['d_seen'], [0, 1, 2, 10, 11, 12])
  # G's one update per step sees the last slice, written at the step's last D update.
  np.testing.assert_array_equal(extras['g_seen'], [-1, -1, 2, -1, -1, 12])


def test_lazy_r1_is_scaled_by_its_interval():
  """On a regularising update D's loss is the plain loss + gamma * k * R1 (Karras et al. 2020)."""
  gamma, k = 0.3, 4
  generator = mlp.Generator(output_shape=(2,), latent_dim=2, hidden_sizes=(8,))
  discriminator = mlp.Discriminator(hidden_sizes=(8,))
  game = games.Unconditional(generator, discriminator, objective='nonsaturating', penalty='r1',
                             penalty_weight=gamma, penalty_every=k)
  real = jax.random.normal(jax.random.key(2), (16, 2))
  g_vars, d_vars, extras = game.init(jax.random.key(0), real)
  args = (d_vars['params'], {}, g_vars['params'], {}, extras, {'x': real}, jax.random.key(3))
  regularized, _ = game.d_loss(*args, jnp.asarray(True))
  plain, _ = game.d_loss(*args, jnp.asarray(False))
  # R1 by hand: 1/2 E ||grad_x D(x)||^2 over the real examples (each logit depends on its x only).
  d = lambda x: discriminator.apply(d_vars, x, train=True)
  grads = jax.grad(lambda x: jnp.sum(d(x)))(real)
  r1 = 0.5 * float(jnp.mean(jnp.sum(grads ** 2, axis=1)))
  assert r1 > 1e-4
  np.testing.assert_allclose(float(regularized) - float(plain), gamma * k * r1, rtol=1e-4)
