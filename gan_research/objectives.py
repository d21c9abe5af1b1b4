"""Adversarial objectives and discriminator penalties, selected by name.

Every loss is a pure function of discriminator logits (the raw, pre-sigmoid output).
D(x) = sigmoid(logit) for the probabilistic objectives. Losses are means over the batch.
Penalties take `d_fn`, a function mapping a batch of inputs to one logit per example.
"""
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp


class Objective(NamedTuple):
  d_loss: Callable[..., jax.Array]  # d_loss(real_logits=..., fake_logits=...)
  g_loss: Callable[..., jax.Array]  # g_loss(fake_logits=...)


def _logistic_d_loss(*, real_logits, fake_logits):
  # -log D(x) - log(1 - D(G(z))) = softplus(-l_real) + softplus(l_fake)
  return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def _minimax_g_loss(*, fake_logits):
  # Goodfellow et al. 2014: minimise log(1 - D(G(z))) = -softplus(l_fake). Saturates early on.
  return -jnp.mean(jax.nn.softplus(fake_logits))


def _nonsaturating_g_loss(*, fake_logits):
  # -log D(G(z)) = softplus(-l_fake)
  return jnp.mean(jax.nn.softplus(-fake_logits))


def _wasserstein_d_loss(*, real_logits, fake_logits):
  # Arjovsky et al. 2017: the critic maximises E[f(x)] - E[f(G(z))].
  return jnp.mean(fake_logits) - jnp.mean(real_logits)


def _wasserstein_g_loss(*, fake_logits):
  # -E[f(G(z))]; also the generator loss of the hinge objective.
  return -jnp.mean(fake_logits)


def _hinge_d_loss(*, real_logits, fake_logits):
  # Lim & Ye 2017 / Miyato et al. 2018: E[relu(1 - l_real)] + E[relu(1 + l_fake)]
  return jnp.mean(jax.nn.relu(1.0 - real_logits)) + jnp.mean(jax.nn.relu(1.0 + fake_logits))


def _least_squares_d_loss(*, real_logits, fake_logits):
  # Mao et al. 2017 with 0-1 coding (a=0, b=1): 1/2 E[(l_real - 1)^2] + 1/2 E[l_fake^2]
  return 0.5 * jnp.mean((real_logits - 1.0) ** 2) + 0.5 * jnp.mean(fake_logits ** 2)


def _least_squares_g_loss(*, fake_logits):
  # 1/2 E[(l_fake - 1)^2] (c = 1)
  return 0.5 * jnp.mean((fake_logits - 1.0) ** 2)


OBJECTIVES = {
    'minimax': Objective(_logistic_d_loss, _minimax_g_loss),
    'nonsaturating': Objective(_logistic_d_loss, _nonsaturating_g_loss),
    'wasserstein': Objective(_wasserstein_d_loss, _wasserstein_g_loss),
    'hinge': Objective(_hinge_d_loss, _wasserstein_g_loss),
    'least_squares': Objective(_least_squares_d_loss, _least_squares_g_loss),
}


def get_objective(name: str) -> Objective:
  if name not in OBJECTIVES:
    raise ValueError(f'Unknown objective {name!r}; valid objectives: {sorted(OBJECTIVES)}.')
  return OBJECTIVES[name]


def _input_gradients(d_fn, x):
  # Examples are independent in D (no batch statistics across them), so the gradient of the
  # summed logits is the per-example gradient.
  grads = jax.grad(lambda inp: jnp.sum(d_fn(inp)))(x)
  return grads.reshape(grads.shape[0], -1)


def gradient_penalty(d_fn, *, real, fake, rng):
  """WGAN-GP (Gulrajani et al. 2017): E[(||grad D(x_hat)||_2 - 1)^2], x_hat on real-fake lines."""
  eps = jax.random.uniform(rng, (real.shape[0],) + (1,) * (real.ndim - 1), real.dtype)
  x_hat = eps * real + (1.0 - eps) * fake
  norms = jnp.sqrt(jnp.sum(_input_gradients(d_fn, x_hat) ** 2, axis=1) + 1e-12)
  return jnp.mean((norms - 1.0) ** 2)


def r1_penalty(d_fn, *, real, fake=None, rng=None):
  """R1 (Mescheder et al. 2018): 1/2 E[||grad D(x_real)||^2]; the weight plays gamma."""
  del fake, rng
  return 0.5 * jnp.mean(jnp.sum(_input_gradients(d_fn, real) ** 2, axis=1))


def path_length_penalty(synthesis_fn, ws, pl_mean, rng, *, decay=0.01):
  """StyleGAN2's path-length regulariser (Karras et al. 2020, eq. 4) -> (penalty, new_pl_mean).

  synthesis_fn(ws, rng) -> images [N, H, W, C]; ws [N, num_ws, w_dim]. For y ~ N(0, I)/sqrt(HW),
  the length a = ||J_w^T y||_2 (J_w^T y = grad_w sum(g(w) * y), summed over w_dim and averaged
  over the ws) is pulled towards its running mean: E[(a - pl_mean')^2] with
  pl_mean' = pl_mean + decay * (mean(a) - pl_mean), returned for the caller to keep.
  """
  noise_rng, y_rng = jax.random.split(rng)
  images, vjp = jax.vjp(lambda w: synthesis_fn(w, noise_rng), ws)
  y = jax.random.normal(y_rng, images.shape, images.dtype) / jnp.sqrt(
      images.shape[1] * images.shape[2]).astype(images.dtype)
  (grads,) = vjp(y)
  lengths = jnp.sqrt(jnp.mean(jnp.sum(jnp.square(grads.astype(jnp.float32)), axis=2), axis=1))
  new_mean = jax.lax.stop_gradient(pl_mean + decay * (jnp.mean(lengths) - pl_mean))
  return jnp.mean(jnp.square(lengths - new_mean)), new_mean


PENALTIES = {
    'none': None,
    'gradient_penalty': gradient_penalty,
    'r1': r1_penalty,
}


def get_penalty(name: str):
  if name not in PENALTIES:
    raise ValueError(f'Unknown penalty {name!r}; valid penalties: {sorted(PENALTIES)}.')
  return PENALTIES[name]


# The semi-supervised GAN (Salimans et al. 2016, section 5): D has K class logits l_1..l_K and
# an implicit K+1-th "fake" logit fixed at 0, so p(real | x) = Z / (Z + 1) with Z = sum_k exp(l_k).


def class_logsumexp(class_logits):
  """The real/fake logit of a K-class D: log sum_k exp(l_k), so sigmoid of it is Z / (Z + 1)."""
  return jax.nn.logsumexp(class_logits.astype(jnp.float32), axis=-1)


def classification_loss(class_logits, labels):
  # -log p(y | x, y < K+1) = logsumexp(l) - l_y: softmax cross-entropy over the K real classes.
  logits = class_logits.astype(jnp.float32)
  picked = jnp.take_along_axis(logits, labels[:, None].astype(jnp.int32), axis=-1)[:, 0]
  return jnp.mean(class_logsumexp(logits) - picked)


def feature_matching_loss(real_features, fake_features):
  """G's loss of Salimans et al. 2016 (section 3.1): ||E f(x) - E f(G(z))||^2, averaged over
  the features as in the authors' code (the mean squared difference of the batch means)."""
  real_mean = jnp.mean(real_features.astype(jnp.float32), axis=0)
  fake_mean = jnp.mean(fake_features.astype(jnp.float32), axis=0)
  return jnp.mean(jnp.square(real_mean - fake_mean))
