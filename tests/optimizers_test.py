"""Learning-rate schedules and optimisers built from config dicts."""
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from gan_research import config_lib, optimizers


def _cfg(**kw):
  c = config_lib.adam(1e-3, 0.5, 0.99)
  c.update(kw)
  return c


def test_linear_decay_is_constant_then_linear_to_zero():
  schedule = optimizers.make_schedule(_cfg(schedule='linear_decay', decay_start_steps=100,
                                           decay_steps=200))
  np.testing.assert_allclose([schedule(s) for s in (0, 99, 100, 150, 200)],
                             [1e-3, 1e-3, 1e-3, 5e-4, 0.0], atol=1e-9)


def test_cosine_and_warmup():
  cosine = optimizers.make_schedule(_cfg(schedule='cosine', decay_steps=100))
  np.testing.assert_allclose([cosine(0), cosine(50), cosine(100)], [1e-3, 5e-4, 0.0], atol=1e-9)
  warm = optimizers.make_schedule(_cfg(warmup_steps=10))
  np.testing.assert_allclose([warm(0), warm(5), warm(10), warm(1000)],
                             [0.0, 5e-4, 1e-3, 1e-3], atol=1e-9)


def test_adam_uses_the_configured_betas():
  params = {'w': jnp.array([1.0])}
  tx = optimizers.make_optimizer(_cfg())
  ref = optax.adam(1e-3, b1=0.5, b2=0.99)
  state, ref_state = tx.init(params), ref.init(params)
  for g in (0.3, -1.0, 2.0):
    grads = {'w': jnp.array([g])}
    u, state = tx.update(grads, state, params)
    r, ref_state = ref.update(grads, ref_state, params)
    np.testing.assert_allclose(u['w'], r['w'], rtol=1e-6)


def test_unknown_names_list_valid_ones():
  with pytest.raises(ValueError, match="valid optimizers: \\['adam', 'rmsprop', 'sgd'\\]"):
    optimizers.make_optimizer(ml_collections.ConfigDict(dict(name='lamb', learning_rate=1.0)))
  with pytest.raises(ValueError, match='valid schedules'):
    optimizers.make_schedule(_cfg(schedule='step'))
