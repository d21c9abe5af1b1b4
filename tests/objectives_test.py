"""Each objective and penalty against its formula computed by hand."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_research import objectives

REAL = np.array([2.0, -1.0, 0.5, 0.0], np.float32)
FAKE = np.array([-3.0, 1.5, 0.25, -0.5], np.float32)


def sigmoid(x):
  return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def test_minimax():
  obj = objectives.get_objective('minimax')
  d_expected = np.mean(-np.log(sigmoid(REAL))) + np.mean(-np.log(1 - sigmoid(FAKE)))
  g_expected = np.mean(np.log(1 - sigmoid(FAKE)))
  np.testing.assert_allclose(obj.d_loss(real_logits=REAL, fake_logits=FAKE), d_expected, rtol=1e-6)
  np.testing.assert_allclose(obj.g_loss(fake_logits=FAKE), g_expected, rtol=1e-6)


def test_nonsaturating():
  obj = objectives.get_objective('nonsaturating')
  d_expected = np.mean(-np.log(sigmoid(REAL))) + np.mean(-np.log(1 - sigmoid(FAKE)))
  np.testing.assert_allclose(obj.d_loss(real_logits=REAL, fake_logits=FAKE), d_expected, rtol=1e-6)
  np.testing.assert_allclose(obj.g_loss(fake_logits=FAKE), np.mean(-np.log(sigmoid(FAKE))),
                             rtol=1e-6)


def test_minimax_generator_saturates_where_nonsaturating_does_not():
  # Goodfellow et al.'s motivation: when D confidently rejects fakes (logit -10), the gradient of
  # log(1 - D(G(z))) vanishes, that of -log D(G(z)) does not.
  logits = jnp.array([-10.0])
  g_mm = jax.grad(lambda l: objectives.get_objective('minimax').g_loss(fake_logits=l))(logits)
  g_ns = jax.grad(lambda l: objectives.get_objective('nonsaturating').g_loss(fake_logits=l))(logits)
  assert abs(float(g_mm[0])) < 1e-4 and abs(float(g_ns[0])) > 0.99


def test_wasserstein():
  obj = objectives.get_objective('wasserstein')
  np.testing.assert_allclose(obj.d_loss(real_logits=REAL, fake_logits=FAKE),
                             FAKE.mean() - REAL.mean(), rtol=1e-6)
  np.testing.assert_allclose(obj.g_loss(fake_logits=FAKE), -FAKE.mean(), rtol=1e-6)


def test_hinge():
  obj = objectives.get_objective('hinge')
  d_expected = np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE))
  np.testing.assert_allclose(obj.d_loss(real_logits=REAL, fake_logits=FAKE), d_expected, rtol=1e-6)
  np.testing.assert_allclose(obj.g_loss(fake_logits=FAKE), -FAKE.mean(), rtol=1e-6)


def test_least_squares():
  obj = objectives.get_objective('least_squares')
  d_expected = 0.5 * np.mean((REAL - 1) ** 2) + 0.5 * np.mean(FAKE ** 2)
  np.testing.assert_allclose(obj.d_loss(real_logits=REAL, fake_logits=FAKE), d_expected, rtol=1e-6)
  np.testing.assert_allclose(obj.g_loss(fake_logits=FAKE), 0.5 * np.mean((FAKE - 1) ** 2),
                             rtol=1e-6)


def test_stable_for_large_logits():
  for name in objectives.OBJECTIVES:
    obj = objectives.get_objective(name)
    big = jnp.array([80.0, -80.0])
    assert np.isfinite(obj.d_loss(real_logits=big, fake_logits=-big))
    assert np.isfinite(obj.g_loss(fake_logits=big))


def _quadratic_critic(w):
  # D(x) = sum_i w_i x_i^2: grad = 2 w * x, so the penalties have closed forms.
  return lambda x: jnp.sum(w * x ** 2, axis=1)


def test_r1_penalty():
  w = jnp.array([1.0, -2.0, 0.5])
  real = jax.random.normal(jax.random.key(0), (5, 3))
  expected = 0.5 * np.mean(np.sum((2 * np.asarray(w) * np.asarray(real)) ** 2, axis=1))
  np.testing.assert_allclose(objectives.r1_penalty(_quadratic_critic(w), real=real), expected,
                             rtol=1e-5)


def test_gradient_penalty():
  w = jnp.array([1.0, -2.0, 0.5])
  real = jax.random.normal(jax.random.key(0), (6, 3))
  fake = jax.random.normal(jax.random.key(1), (6, 3))
  rng = jax.random.key(2)
  eps = np.asarray(jax.random.uniform(rng, (6, 1)))  # the same draw the penalty makes
  x_hat = eps * np.asarray(real) + (1 - eps) * np.asarray(fake)
  norms = np.linalg.norm(2 * np.asarray(w) * x_hat, axis=1)
  expected = np.mean((norms - 1) ** 2)
  got = objectives.gradient_penalty(_quadratic_critic(w), real=real, fake=fake, rng=rng)
  np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_gradient_penalty_is_zero_for_unit_gradient_critic():
  d_fn = lambda x: x @ jnp.array([0.6, 0.8])  # ||grad|| = 1 everywhere
  x = jnp.ones((4, 2))
  assert float(objectives.gradient_penalty(d_fn, real=x, fake=-x, rng=jax.random.key(0))) < 1e-10


def test_unknown_names_list_valid_ones():
  with pytest.raises(ValueError, match="valid objectives: .*hinge.*least_squares"):
    objectives.get_objective('wgan')
  with pytest.raises(ValueError, match="valid penalties: .*gradient_penalty.*r1"):
    objectives.get_penalty('r2')
