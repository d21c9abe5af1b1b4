"""End-to-end training: learning, exact resumption, one compile, NaN handling, d_steps."""
import functools
import json
import logging
import os
import re

import jax
import numpy as np
import pytest

from gan_research import config_lib, data, train, writers
from gan_research.metrics import mode_statistics


def toy_config(**overrides):
  c = config_lib.base_config()
  c.model, c.dataset = 'mlp', 'ring8'
  c.generator = dict(latent_dim=2, hidden_sizes=(64, 64), activation='relu')
  c.discriminator = dict(hidden_sizes=(64, 64), activation='leaky_relu')
  c.batch_size, c.num_train_steps = 64, 10
  c.log_every_steps = c.checkpoint_every_steps = c.sample_every_steps = 5
  c.update(overrides)
  return c


def dcgan_config(data_dir, **overrides):
  """A tiny DCGAN on MNIST-shaped IDX files in data_dir (tests pass conftest's synthetic ones)."""
  c = config_lib.base_config()
  c.model, c.dataset, c.data_dir, c.image_size = 'dcgan', 'mnist', data_dir, 28
  c.generator = dict(latent_dim=16, base_width=4)
  c.discriminator = dict(base_width=4)
  c.batch_size, c.num_train_steps, c.d_steps, c.ema_decay = 16, 6, 2, 0.9
  c.log_every_steps, c.checkpoint_every_steps, c.sample_every_steps = 1, 3, 3
  c.update(overrides)
  return c


def _leaves(state):
  return [np.asarray(x) for x in jax.tree.leaves(state)]


def test_short_run_moves_the_generator_onto_the_ring(tmp_path):
  # A wider ring (std 0.05) so a 20-second run can be held to a real standard.
  config = toy_config(num_train_steps=3000, batch_size=128, data=dict(std=0.05),
                      log_every_steps=1000, checkpoint_every_steps=3000, sample_every_steps=3000,
                      ema_decay=0.99)
  config.optimizer_g.learning_rate = config.optimizer_d.learning_rate = 1e-3
  config.evals.modes = dict(every_steps=0, num_samples=2500)
  experiment = train.build(config)
  untrained = experiment.init_state(jax.random.key(0))
  before = mode_statistics(experiment.make_sampler()(untrained, jax.random.key(1), 2500),
                           experiment.source.centers, 0.05)
  train.train_and_evaluate(config, str(tmp_path))
  rows = [json.loads(line) for line in open(tmp_path / 'metrics.jsonl')]
  after = [r for r in rows if 'modes/captured' in r][-1]
  assert before['high_quality'] < 0.2
  assert after['step'] == 3000
  assert after['modes/captured'] >= 7 and after['modes/high_quality'] >= 0.7, after
  for key in ('loss/d', 'loss/g', 'd/real_logit', 'd/fake_logit', 'steps_per_sec'):
    assert key in rows[-2], key
  assert os.path.exists(tmp_path / 'samples' / 'step_003000.png')
  assert json.load(open(tmp_path / 'config.json'))['dataset'] == 'ring8'


def test_ema_samples_use_batch_statistics_not_the_training_weights_running_ones():
  config = toy_config(ema_decay=0.99)
  config.generator.norm = 'batch'
  experiment = train.build(config)
  state = experiment.init_state(jax.random.key(0))
  stats = state.g.state['batch_stats']
  # Running statistics far from anything G computes, and EMA weights unlike G's own.
  stale = {'batch_stats': jax.tree.map(lambda v: v + 3.0, stats)}
  ema = jax.tree.map(lambda p: 1.5 * p, state.g.params)
  sampler, rng = experiment.make_sampler(), jax.random.key(2)
  with_ema = sampler(state.replace(ema_params=ema), rng, 100)
  np.testing.assert_array_equal(
      sampler(state.replace(ema_params=ema, g=state.g.replace(state=stale)), rng, 100), with_ema)
  # The first chunk is G in training mode (its own batch statistics) on the chunk's latents.
  game, chunk = experiment.game, config.batch_size
  z = game.latents(jax.random.split(rng, 2)[0], chunk)
  expected = game.generate(ema, state.g.state, z, train=True)[0]
  np.testing.assert_allclose(with_ema[:chunk], expected, rtol=1e-5, atol=1e-6)
  # Without EMA, G samples in inference mode: the running statistics matter.
  raw = state.replace(ema_params=None)
  assert not np.allclose(sampler(raw, rng, 100),
                         sampler(raw.replace(g=raw.g.replace(state=stale)), rng, 100))


def test_resumed_run_equals_uninterrupted_run(tmp_path, synthetic_mnist_dir):
  # DCGAN with BatchNorm statistics, two D updates per step, EMA and image data: all of it must
  # come back from the checkpoint, and the data stream must pick up where it stopped.
  full = train.train_and_evaluate(dcgan_config(synthetic_mnist_dir), str(tmp_path / 'full'))
  half = dcgan_config(synthetic_mnist_dir, num_train_steps=3)
  train.train_and_evaluate(half, str(tmp_path / 'resumed'))
  resumed = train.train_and_evaluate(dcgan_config(synthetic_mnist_dir), str(tmp_path / 'resumed'))
  assert int(resumed.step) == int(full.step) == 6
  for a, b in zip(_leaves(full), _leaves(resumed)):
    np.testing.assert_array_equal(a, b)
  assert sorted(os.listdir(tmp_path / 'resumed' / 'checkpoints')) == ['3', '6']
  # Raising num_train_steps on a finished workdir continues it.
  longer = train.train_and_evaluate(dcgan_config(synthetic_mnist_dir, num_train_steps=7),
                                    str(tmp_path / 'resumed'))
  assert int(longer.step) == 7


def test_spectral_norm_discriminator_trains_and_resumes_exactly(tmp_path, synthetic_mnist_dir):
  # SNGAN's D (hinge loss): its power-iteration vectors live in D's state and must be checkpointed.
  config = functools.partial(dcgan_config, synthetic_mnist_dir, objective='hinge', ema_decay=0.0,
                             d_steps=1,
                             discriminator=dict(base_width=4, norm='spectral'))
  full = train.train_and_evaluate(config(num_train_steps=4), str(tmp_path / 'full'))
  train.train_and_evaluate(config(num_train_steps=2, checkpoint_every_steps=2),
                           str(tmp_path / 'resumed'))
  resumed = train.train_and_evaluate(config(num_train_steps=4), str(tmp_path / 'resumed'))
  u = full.d.state['batch_stats']['SpectralNorm_0']['Conv_0/kernel/u']
  assert np.all(np.isfinite(u)) and np.abs(u).sum() > 0
  for a, b in zip(_leaves(full), _leaves(resumed)):
    np.testing.assert_array_equal(a, b)


def test_train_step_compiles_once(tmp_path, monkeypatch):
  compiled = []
  make = train.Experiment.make_train_step

  def recording(self):
    step = make(self)
    compiled.append(step)
    return step

  monkeypatch.setattr(train.Experiment, 'make_train_step', recording)
  train.train_and_evaluate(toy_config(num_train_steps=12, d_steps=3), str(tmp_path))
  assert compiled[0]._cache_size() == 1


def test_d_steps_updates_discriminator_k_times_with_distinct_batches(tmp_path):
  state = train.train_and_evaluate(toy_config(num_train_steps=4, d_steps=3), str(tmp_path))
  assert int(state.d.opt_state[0].count) == 12 and int(state.g.opt_state[0].count) == 4
  batch = data.get_source(toy_config()).get_batch(0, d_steps=3, batch_size=64)['x']
  assert not np.array_equal(batch[0], batch[1])


def test_nonfinite_loss_stops_with_step_and_last_checkpoint(tmp_path, monkeypatch):
  real_get_source = data.get_source

  def poisoned(config, split='train', **kw):
    source = real_get_source(config, split, **kw)
    get_batch = source.get_batch

    def get(step, **kw):
      batch = get_batch(step, **kw)
      return {'x': batch['x'] * np.nan} if step == 7 else batch  # step index 7 = step 8

    source.get_batch = get
    return source

  monkeypatch.setattr(data, 'get_source', poisoned)
  with pytest.raises(FloatingPointError, match=r'step 8.*last good checkpoint is step 5'):
    train.train_and_evaluate(toy_config(num_train_steps=20, log_every_steps=10), str(tmp_path))
  assert sorted(os.listdir(tmp_path / 'checkpoints')) == ['5']  # nothing non-finite was saved


def test_wasserstein_weight_clipping_and_penalties_train(tmp_path):
  config = toy_config(objective='wasserstein', d_weight_clip=0.01, num_train_steps=3)
  state = train.train_and_evaluate(config, str(tmp_path / 'clip'))
  assert max(float(np.abs(p).max()) for p in jax.tree.leaves(state.d.params)) <= 0.01
  for penalty in ('gradient_penalty', 'r1'):
    config = toy_config(objective='hinge', penalty=penalty, penalty_weight=1.0, penalty_every=2,
                        num_train_steps=3, log_every_steps=1)
    train.train_and_evaluate(config, str(tmp_path / penalty))
    rows = [json.loads(line) for line in open(tmp_path / penalty / 'metrics.jsonl')]
    penalties = [r['loss/d_penalty'] for r in rows if 'loss/d_penalty' in r]
    # Lazy: applied on D updates 0 and 2 (steps 1 and 3), skipped on update 1.
    assert penalties[0] > 0 and penalties[1] == 0 and penalties[2] > 0


def test_bad_config_values_fail_clearly(tmp_path):
  with pytest.raises(ValueError, match='d_steps must be >= 1'):
    train.train_and_evaluate(toy_config(d_steps=0), str(tmp_path))
  with pytest.raises(ValueError, match='needs config.penalty_weight'):
    train.train_and_evaluate(toy_config(penalty='r1'), str(tmp_path))
  with pytest.raises(ValueError, match="valid objectives"):
    train.train_and_evaluate(toy_config(objective='wgan'), str(tmp_path))


def test_evaluators_switched_off_by_negative_every_steps():
  import ml_collections
  from gan_research import metrics
  source = data.get_source(toy_config())
  evals = ml_collections.ConfigDict({'modes': {'every_steps': -1}})
  assert metrics.build_evaluators(evals, source, None) == {}
  evals.modes.every_steps = 0
  assert list(metrics.build_evaluators(evals, source, None)) == ['modes']
  with pytest.raises(ValueError, match="valid evaluators: .*fid.*modes"):
    metrics.build_evaluators(ml_collections.ConfigDict({'fdi': {}}), source, None)


def test_progress_line_gives_step_of_total_rate_and_time_left(tmp_path, caplog):
  caplog.set_level(logging.INFO)
  config = toy_config(num_train_steps=6, log_every_steps=2, checkpoint_every_steps=6,
                      sample_every_steps=6)
  train.train_and_evaluate(config, str(tmp_path))
  pattern = re.compile(r'step (\d+)/6 \((\d+)%\), ([\d.e+]+) steps/s, ETA (\w+), '
                       r'loss/d ([-\d.e+]+), loss/g ([-\d.e+]+)$')
  lines = [m for m in map(pattern.match, caplog.messages) if m]
  assert [int(m[1]) for m in lines] == [2, 4, 6], caplog.messages
  assert [int(m[2]) for m in lines] == [33, 66, 100]
  rows = [r for r in writers.read_metrics(str(tmp_path)) if 'loss/d' in r]
  for m, row in zip(lines, rows):
    assert float(m[3]) == pytest.approx(row['steps_per_sec'], rel=5e-3)
    assert m[4] == train.format_duration((6 - int(m[1])) / row['steps_per_sec'])
    assert float(m[5]) == pytest.approx(row['loss/d'], rel=1e-3)
    assert float(m[6]) == pytest.approx(row['loss/g'], rel=1e-3)
  assert lines[-1][4] == '0s'


def test_durations_read_as_hours_minutes_seconds():
  assert [train.format_duration(s) for s in (0.4, 45, 775, 3600, 3 * 3600 + 5 * 60 + 59)] == [
      '0s', '45s', '12m55s', '1h00m', '3h05m']
  line = train.progress_line(1200, 5000, {'steps_per_sec': 4.9, 'loss/d': 1.25, 'loss/g': 0.5,
                                          'd/real_logit': 3.0})
  assert line == 'step 1200/5000 (24%), 4.9 steps/s, ETA 12m56s, loss/d 1.25, loss/g 0.5'
  assert train.progress_line(1, 10, {'loss/d': 1.0}) == 'step 1/10 (10%), loss/d 1'
