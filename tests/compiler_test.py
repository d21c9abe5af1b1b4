"""config.cpu_conv_backend: the compiler option it sets, and the same training either way."""
import jax
import numpy as np
import pytest

from gan_research import compiler, config_lib, parallel, train
from gan_research.data.pipeline import Prefetcher
from train_test import dcgan_config


def test_options_by_backend():
  assert compiler.train_step_options('ynnpack') is None
  assert compiler.train_step_options('xla') == {
      'xla_cpu_experimental_ynn_fusion_type': 'LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT'}
  with pytest.raises(ValueError, match=r"'ynnpack', 'xla'"):
    compiler.train_step_options('onednn')


def test_config_validation_names_the_valid_backends(synthetic_mnist_dir):
  with pytest.raises(ValueError, match=r"cpu_conv_backend 'mkl'.*'ynnpack', 'xla'"):
    config_lib.validate(dcgan_config(synthetic_mnist_dir, cpu_conv_backend='mkl'))


def _two_steps(config):
  experiment = train.build(config)
  state = experiment.init_state(jax.random.key(0))
  batches = Prefetcher(experiment.source, start_step=0, d_steps=config.d_steps,
                       batch_size=config.batch_size,
                       sharding=parallel.batch_sharding(experiment.mesh))
  step = experiment.make_train_step()
  for i in range(2):
    state, _ = step(state, next(batches), jax.random.key(i))
  batches.close()
  return jax.device_get(state)


def test_dcgan_trains_the_same_with_either_backend(synthetic_mnist_dir):
  # The faster set of experiments/dcgan.py (XLA's convolutions, 'conv' gradients for the
  # transposed and the strided convolutions) against jaxlib's defaults: the same parameters
  # after two steps, up to rounding.
  default = _two_steps(dcgan_config(synthetic_mnist_dir, d_steps=1))
  config = dcgan_config(synthetic_mnist_dir, d_steps=1, cpu_conv_backend='xla')
  config.generator.conv_backward = 'conv'
  config.discriminator.conv_backward = 'conv'
  fast = _two_steps(config)
  for player in ('g', 'd'):
    a, b = getattr(default, player).params, getattr(fast, player).params
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
      np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
  moved = max(float(np.max(np.abs(x - y))) for x, y in zip(
      jax.tree.leaves(default.g.params),
      jax.tree.leaves(train.build(dcgan_config(synthetic_mnist_dir, d_steps=1)).init_state(
          jax.random.key(0)).g.params)))
  assert moved > 1e-4  # the steps did update G: the comparison is not between two initial states


def test_benchmark_names_the_host_cpu_and_its_vector_isa(tmp_path):
  from gan_research import benchmark
  cpuinfo = tmp_path / 'cpuinfo'
  core = 'processor\t: {}\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse4_2 avx2 {}\n\n'
  cpuinfo.write_text(core.format(0, 'avx512f avx512bw') + core.format(1, 'avx512f avx512bw'))
  assert benchmark.host_cpu(str(cpuinfo)) == 'AMD EPYC (2 cpus, avx512)'
  cpuinfo.write_text(core.format(0, ''))
  assert benchmark.host_cpu(str(cpuinfo)) == 'AMD EPYC (1 cpus, avx2)'
  assert benchmark.host_cpu(str(tmp_path / 'missing')) is None
