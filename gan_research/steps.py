"""The train step: one pure function (state, batch, rng) -> (state, metrics).

`batch` leaves carry a leading d_steps axis: the discriminator makes one update per slice (the k
of Goodfellow et al.'s Algorithm 1), then the generator makes one. Everything a game needs beyond
its two losses (optimisers, the lazy-penalty schedule, weight clipping, EMA) lives here, so every
game gets it.
"""
import functools

import jax
import jax.numpy as jnp
import optax

from gan_research.train_state import Player, TrainState


def make_unrolled_g_loss(game, tx_d, unroll_steps: int):
  """G's loss against D unrolled `unroll_steps` optimiser steps ahead (Metz et al. 2017).

  Returns loss_fn(g_params, g_state, d: Player, extras, batch, rng, regularize) -> (loss, aux),
  aux as in `game.g_loss`. D's copy takes `unroll_steps` `tx_d` updates on `game.d_loss` (without
  its lazy regulariser, with `grad_into_generator=True` so G's samples keep their gradient)
  inside the differentiated function, so the gradient with respect to g_params includes how D
  would react to G (the second-order term of Metz et al. eq. 12). With unroll_steps = 0 it is
  exactly `game.g_loss`. The unrolled D is thrown away: the caller keeps D's real update.
  """
  d_loss = functools.partial(game.d_loss, grad_into_generator=True)

  def loss_fn(g_params, g_state, d, extras, batch, rng, regularize):
    if not unroll_steps:
      return game.g_loss(g_params, g_state, d.params, d.state, extras, batch, rng, regularize)

    def d_step(carry, i):
      d_params, d_opt_state, d_extras = carry
      grads, (_, d_extras, _) = jax.grad(d_loss, has_aux=True)(
          d_params, d.state, g_params, g_state, d_extras, batch, jax.random.fold_in(rng, i + 1),
          jnp.asarray(False))
      updates, d_opt_state = tx_d.update(grads, d_opt_state, d_params)
      return (optax.apply_updates(d_params, updates), d_opt_state, d_extras), None

    # A scan, not a Python loop: one traced D step, so compile time does not grow with k.
    (d_params, _, _), _ = jax.lax.scan(d_step, (d.params, d.opt_state, extras),
                                       jnp.arange(unroll_steps))
    return game.g_loss(g_params, g_state, d_params, d.state, extras, batch,
                       jax.random.fold_in(rng, 0), regularize)

  return loss_fn


def make_train_step(game, tx_g, tx_d, *, d_steps: int, penalty_every: int = 1,
                    g_penalty_every: int = 1, d_weight_clip: float = 0.0, ema_decay: float = 0.0,
                    unroll_steps: int = 0):
  """Returns the pure train step; jit it (with shardings) in the caller.

  `penalty_every` / `g_penalty_every`: the discriminator's / generator's lazy regulariser runs on
  every k-th update of that player (the game scales it by k). `unroll_steps` > 0: G's update
  differentiates through that many optimiser steps of a copy of D (make_unrolled_g_loss).
  """
  unrolled_g_loss = make_unrolled_g_loss(game, tx_d, unroll_steps) if unroll_steps else None

  def d_update(d: Player, g: Player, extras, batch, rng, update_index):
    regularize = update_index % penalty_every == 0
    grad_fn = jax.value_and_grad(game.d_loss, has_aux=True)
    (_, (d_state, extras, metrics)), grads = grad_fn(d.params, d.state, g.params, g.state, extras,
                                                     batch, rng, regularize)
    updates, opt_state = tx_d.update(grads, d.opt_state, d.params)
    params = optax.apply_updates(d.params, updates)
    if d_weight_clip:  # WGAN (Arjovsky et al. 2017): keep the critic K-Lipschitz by clipping
      params = jax.tree.map(lambda p: jnp.clip(p, -d_weight_clip, d_weight_clip), params)
    metrics['grad_norm/d'] = optax.tree.norm(grads)
    return Player(params, d_state, opt_state), extras, metrics

  def g_update(g: Player, d: Player, extras, batch, rng, update_index):
    regularize = update_index % g_penalty_every == 0
    if unrolled_g_loss is not None:
      grad_fn = jax.value_and_grad(unrolled_g_loss, has_aux=True)
      (_, (g_state, extras, metrics)), grads = grad_fn(g.params, g.state, d, extras, batch, rng,
                                                       regularize)
    else:
      grad_fn = jax.value_and_grad(game.g_loss, has_aux=True)
      (_, (g_state, extras, metrics)), grads = grad_fn(g.params, g.state, d.params, d.state,
                                                       extras, batch, rng, regularize)
    updates, opt_state = tx_g.update(grads, g.opt_state, g.params)
    metrics['grad_norm/g'] = optax.tree.norm(grads)
    return Player(optax.apply_updates(g.params, updates), g_state, opt_state), extras, metrics

  def train_step(state: TrainState, batch, rng):
    rng = jax.random.fold_in(rng, state.step)
    d_rngs = jax.random.split(jax.random.fold_in(rng, 0), d_steps)
    g_rng = jax.random.fold_in(rng, 1)

    # A Python loop, not lax.scan: XLA:CPU (jaxlib 0.10.2) runs the weight-gradient
    # convolutions of a D update placed in a loop body (even a one-trip scan) far slower than
    # the same update outside one (docs/performance.md). d_steps is small (1, or 5 for WGAN).
    d, extras, d_metrics = state.d, state.extras, []
    for j in range(d_steps):
      real = jax.tree.map(lambda x: x[j], batch)  # pylint: disable=cell-var-from-loop
      d, extras, metrics = d_update(d, state.g, extras, real, d_rngs[j],
                                    state.step * d_steps + j)
      d_metrics.append(metrics)
    last_batch = jax.tree.map(lambda x: x[-1], batch)
    g, extras, g_metrics = g_update(state.g, d, extras, last_batch, g_rng, state.step)
    ema_params = state.ema_params
    if ema_params is not None:
      ema_params = jax.tree.map(lambda e, p: ema_decay * e + (1.0 - ema_decay) * p,
                                ema_params, g.params)
    d_metrics = jax.tree.map(lambda *m: jnp.mean(jnp.stack(m)), *d_metrics)
    metrics = {**d_metrics, **g_metrics}
    new_state = state.replace(step=state.step + 1, g=g, d=d, ema_params=ema_params,
                              extras=extras)
    return new_state, metrics

  return train_step
