"""config.compute_dtype='bfloat16': G and D compute in bf16, everything they keep stays float32."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_research import config_lib, train
from gan_research.models import dcgan, mlp
from gan_research.ops import conv, conv_transpose
from train_test import dcgan_config, toy_config


def _output_dtype(module, x):
  variables = module.init(jax.random.key(0), x, train=False)
  return module.apply(variables, x, train=False).dtype, variables


@pytest.mark.parametrize('module,x', [
    (mlp.Generator(output_shape=(2,), dtype=jnp.bfloat16, norm='batch'), jnp.zeros((4, 2))),
    (mlp.Discriminator(dtype=jnp.bfloat16, minibatch_kernels=3), jnp.zeros((4, 2))),
    (dcgan.Generator(output_shape=(28, 28, 1), base_width=4, dtype=jnp.bfloat16),
     jnp.zeros((2, 8))),
    (dcgan.Discriminator(base_width=4, dtype=jnp.bfloat16), jnp.zeros((2, 28, 28, 1))),
], ids=['mlp_g', 'mlp_d', 'dcgan_g', 'dcgan_d'])
def test_models_compute_in_bfloat16_with_float32_variables(module, x):
  dtype, variables = _output_dtype(module, x)
  assert dtype == jnp.bfloat16
  assert {v.dtype for v in jax.tree.leaves(variables)} == {jnp.dtype(jnp.float32)}


@pytest.mark.parametrize('layer,x', [
    (conv.Conv(8, (4, 4), strides=(2, 2), padding=((1, 1), (1, 1))), jnp.ones((2, 8, 8, 3))),
    (conv_transpose.ConvTranspose(8, (4, 4), strides=(2, 2)), jnp.ones((2, 4, 4, 3))),
], ids=['conv', 'conv_transpose'])
def test_custom_ops_take_bfloat16_and_give_float32_gradients(layer, x):
  variables = layer.init(jax.random.key(0), x)
  x = jax.random.normal(jax.random.key(1), x.shape)
  loss = lambda v, module: jnp.sum(module.apply(v, x).astype(jnp.float32) ** 2)
  low = layer.clone(dtype=jnp.bfloat16)
  assert low.apply(variables, x).dtype == jnp.bfloat16
  grads, grads32 = jax.grad(loss)(variables, low), jax.grad(loss)(variables, layer)
  for g, g32 in zip(jax.tree.leaves(grads), jax.tree.leaves(grads32)):
    assert g.dtype == jnp.float32
    np.testing.assert_allclose(g, g32, rtol=0.05, atol=0.05 * float(jnp.max(jnp.abs(g32))))


def test_dcgan_bfloat16_trains_with_float32_state_and_finite_losses(tmp_path, synthetic_mnist_dir):
  config = dcgan_config(synthetic_mnist_dir, compute_dtype='bfloat16', num_train_steps=3)
  experiment = train.build(config)
  state = train.train_and_evaluate(config, str(tmp_path))
  assert int(state.step) == 3
  dtypes = {x.dtype for x in jax.tree.leaves(state)} - {jnp.dtype(jnp.int32)}
  assert dtypes == {jnp.dtype(jnp.float32)}, dtypes  # params, BatchNorm stats, Adam, EMA
  rows = [json.loads(line) for line in open(tmp_path / 'metrics.jsonl')]
  assert len(rows) == 3 and all(np.isfinite(v) for r in rows for v in r.values())
  assert experiment.make_sampler()(state, jax.random.key(0), 5).dtype == np.float32


def test_bfloat16_toy_run_finds_the_modes_like_float32(tmp_path):
  # The float32 standard of train_test.test_short_run_moves_the_generator_onto_the_ring.
  config = toy_config(num_train_steps=3000, batch_size=128, data=dict(std=0.05),
                      log_every_steps=1000, checkpoint_every_steps=3000, sample_every_steps=3000,
                      ema_decay=0.99, compute_dtype='bfloat16')
  config.optimizer_g.learning_rate = config.optimizer_d.learning_rate = 1e-3
  config.evals.modes = dict(every_steps=0, num_samples=2500)
  train.train_and_evaluate(config, str(tmp_path))
  rows = [json.loads(line) for line in open(tmp_path / 'metrics.jsonl')]
  after = [r for r in rows if 'modes/captured' in r][-1]
  assert after['modes/captured'] >= 7 and after['modes/high_quality'] >= 0.7, after


def test_unknown_compute_dtype_fails_with_the_valid_ones():
  with pytest.raises(ValueError, match=r"compute_dtype 'float16'.*'float32', 'bfloat16'"):
    config_lib.validate(toy_config(compute_dtype='float16'))
