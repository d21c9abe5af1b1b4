"""Data parallelism: 8 CPU devices give the 1-device result for the same global batch."""
import os
import subprocess
import sys
import textwrap

from conftest import REPO

CHILD = textwrap.dedent('''
    import jax, numpy as np
    from gan_research import config_lib, parallel, train
    from gan_research.data.pipeline import Prefetcher
    assert jax.device_count() == 8, jax.devices()

    c = config_lib.base_config()
    c.model, c.dataset, c.data_dir, c.image_size = 'dcgan', 'mnist', {mnist!r}, 28
    # Spectral norm, not BatchNorm: R1 needs a D that scores examples independently (it still
    # keeps state, its power-iteration vectors, to shard).
    c.generator = dict(latent_dim=8, base_width=4)
    c.discriminator = dict(base_width=4, norm='spectral')
    c.batch_size, c.d_steps, c.ema_decay = 16, 2, 0.9
    c.penalty, c.penalty_weight = 'r1', 1.0

    def run(devices):
      experiment = train.build(c, parallel.make_mesh(devices))
      state = experiment.init_state(jax.random.key(0))
      step = experiment.make_train_step()
      batches = Prefetcher(experiment.source, start_step=0, d_steps=c.d_steps,
                           batch_size=c.batch_size,
                           sharding=parallel.batch_sharding(experiment.mesh))
      for _ in range(3):
        batch = next(batches)
        state, metrics = step(state, batch, jax.random.key(1))
      batches.close()
      assert len(batch['x'].sharding.device_set) == len(devices)
      return state, metrics

    one, m1 = run(jax.devices()[:1])
    eight, m8 = run(jax.devices())
    assert len(eight.g.params['Dense_0']['kernel'].sharding.device_set) == 8
    worst = 0.0
    for a, b in zip(jax.tree.leaves(one), jax.tree.leaves(eight)):
      a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
      np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)
      worst = max(worst, float(np.max(np.abs(a - b)))) if a.size else worst
    for k in m1:
      np.testing.assert_allclose(m1[k], m8[k], rtol=2e-4, atol=2e-5)
    print('max abs difference', worst)
''')


def test_eight_devices_equal_one_device(synthetic_mnist_dir):
  flags = os.environ.get('XLA_FLAGS', '') + ' --xla_force_host_platform_device_count=8'
  env = dict(os.environ, XLA_FLAGS=flags.strip(),
             PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
  result = subprocess.run([sys.executable, '-c', CHILD.format(mnist=synthetic_mnist_dir)], env=env,
                          capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stdout + result.stderr[-5000:]
  assert 'max abs difference' in result.stdout
