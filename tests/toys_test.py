"""Toy studies: D*, packing, unrolling, mode counting, and the vmapped multi-run trainer."""
import csv
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_research import (
  config_lib,
  games,
  optimizers,
  packing,
  steps,
  sweeps,
  train,
  train_state,
)
from gan_research.data import synthetic
from gan_research.figures import __main__ as figures_main
from gan_research.figures import modes2d, optimal_d, toy1d
from gan_research.metrics import mode_statistics
from gan_research.models import mlp


def test_optimal_discriminator_formula():
  d_star = optimal_d.optimal_discriminator([0.3, 0.2, 0.0, 0.4, 0.0], [0.1, 0.2, 0.5, 0.0, 0.0])
  np.testing.assert_allclose(d_star, [0.75, 0.5, 0.0, 1.0, 0.5])


def test_gaussian_kde_integrates_to_one_and_peaks_at_the_samples():
  xs = np.linspace(-6, 6, 1201)
  density = optimal_d.gaussian_kde(np.array([-1.0, 1.0]), xs, bandwidth=0.5)
  assert abs(np.sum(density) * (xs[1] - xs[0]) - 1.0) < 1e-3
  # Two kernels of std 0.5 at +-1: the density at 1 is (N(0) + N(2)) / 2 with sigma 0.5.
  expected = (1 + np.exp(-0.5 * 16)) / 2 / (0.5 * np.sqrt(2 * np.pi))
  np.testing.assert_allclose(density[np.argmin(np.abs(xs - 1.0))], expected, rtol=1e-6)


def test_pack_inputs_concatenates_consecutive_samples_on_the_feature_axis():
  x = np.arange(12.0).reshape(6, 2)
  packed = np.asarray(packing.pack_inputs(jnp.asarray(x), 3))
  np.testing.assert_array_equal(packed, [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
  images = np.random.default_rng(0).normal(size=(4, 3, 5, 2)).astype(np.float32)
  packed = np.asarray(packing.pack_inputs(jnp.asarray(images), 2))
  assert packed.shape == (2, 3, 5, 4)  # channels: sample 2i's then sample 2i+1's
  np.testing.assert_array_equal(packed[1, 2, 4], np.concatenate([images[2, 2, 4], images[3, 2, 4]]))
  assert packing.pack_inputs(x, 1) is x
  with pytest.raises(ValueError, match='divisible'):
    packing.pack_inputs(jnp.zeros((5, 2)), 2)


def _toy_config(**overrides):
  c = config_lib.base_config()
  c.dataset = 'ring8'
  c.generator = {'latent_dim': 2, 'hidden_sizes': (8,)}
  c.discriminator = {'hidden_sizes': (8,)}
  c.batch_size = 12
  c.update(overrides)
  return c


def test_pack_config_wraps_d_and_keeps_the_global_batch():
  experiment = train.build(_toy_config(pack=3))
  state = experiment.init_state(jax.random.key(0))
  # D's first layer sees 3 samples of 2 coordinates.
  assert state.d.params['discriminator']['Dense_0']['kernel'].shape == (6, 8)
  logits = experiment.game.discriminator.apply({'params': state.d.params}, jnp.zeros((12, 2)),
                                               train=True)
  assert logits.shape == (4,)  # 12 samples -> 4 packed inputs
  batch = {'x': jnp.asarray(experiment.source.get_batch(0, d_steps=1, batch_size=12)['x'])}
  assert batch['x'].shape == (1, 12, 2)  # the data pipeline still serves batch_size samples
  state, metrics = experiment.make_train_step()(state, batch, jax.random.key(1))
  assert int(state.step) == 1 and np.isfinite(metrics['loss/d'])
  with pytest.raises(ValueError, match='divisible by config.pack'):
    config_lib.validate(_toy_config(pack=5))
  with pytest.raises(ValueError, match='unroll_steps'):
    config_lib.validate(_toy_config(unroll_steps=-1))


def _unrolling_setup():
  game = games.Unconditional(mlp.Generator(output_shape=(2,), latent_dim=2, hidden_sizes=(8,)),
                             mlp.Discriminator(hidden_sizes=(8,)), objective='nonsaturating')
  tx = optax.adam(1e-2, eps_root=1e-16)
  x = jax.random.normal(jax.random.key(3), (16, 2))
  state = train_state.create(*game.init(jax.random.key(0), x), tx, tx, use_ema=False)
  return game, tx, state, {'x': x}


def test_unrolled_generator_loss_is_plain_at_k0_and_changes_the_gradient_at_k_gt_0():
  game, tx, state, batch = _unrolling_setup()
  rng, regularize = jax.random.key(7), jnp.asarray(True)
  args = (state.g.state, state.d.params, state.d.state, {}, batch, rng, regularize)
  plain_loss, plain_aux = jax.jit(game.g_loss)(state.g.params, *args)
  plain_grad = jax.jit(jax.grad(lambda p: game.g_loss(p, *args)[0]))(state.g.params)

  def unrolled(k, g_params, the_game=game):
    loss_fn = steps.make_unrolled_g_loss(the_game, tx, k)
    return loss_fn(g_params, state.g.state, state.d, {}, batch, rng, regularize)

  loss0, aux0 = jax.jit(lambda p: unrolled(0, p))(state.g.params)
  assert float(loss0) == float(plain_loss)
  assert float(aux0[2]['loss/g']) == float(plain_aux[2]['loss/g'])
  grad0 = jax.jit(jax.grad(lambda p: unrolled(0, p)[0]))(state.g.params)
  jax.tree.map(np.testing.assert_array_equal, grad0, plain_grad)

  grad_k2 = jax.jit(jax.grad(lambda p: unrolled(2, p)[0]))(state.g.params)
  diff = optax.tree.norm(jax.tree.map(jnp.subtract, grad_k2, plain_grad))
  assert np.isfinite(float(optax.tree.norm(grad_k2))) and float(diff) > 1e-4
  # The difference includes the second-order term (how D's updates depend on G), which the
  # unrolled loss gets by asking d_loss for differentiable fakes: a game that cuts G's samples
  # out of D's unrolled updates whatever it is asked leaves another (first-order) gradient.

  class FirstOrderGame(games.Unconditional):
    def d_loss(self, *args, grad_into_generator=False):
      del grad_into_generator
      return super().d_loss(*args)

  first_order = FirstOrderGame(game.generator, game.discriminator, objective='nonsaturating')
  grad_k2_first_order = jax.jit(jax.grad(lambda p: unrolled(2, p, first_order)[0]))(
      state.g.params)
  diff = optax.tree.norm(jax.tree.map(jnp.subtract, grad_k2, grad_k2_first_order))
  assert float(diff) > 1e-6


def test_unrolled_train_step_updates_g_and_leaves_d_update_unchanged():
  game, tx, state, batch = _unrolling_setup()
  batch = {'x': batch['x'][None]}
  plain = jax.jit(steps.make_train_step(game, tx, tx, d_steps=1))
  unrolled = jax.jit(steps.make_train_step(game, tx, tx, d_steps=1, unroll_steps=3))
  s_plain, _ = plain(state, batch, jax.random.key(1))
  s_unrolled, metrics = unrolled(state, batch, jax.random.key(1))
  jax.tree.map(np.testing.assert_array_equal, s_plain.d.params, s_unrolled.d.params)
  g_diff = optax.tree.norm(jax.tree.map(jnp.subtract, s_plain.g.params, s_unrolled.g.params))
  assert float(g_diff) > 0 and np.isfinite(metrics['loss/g'])


def test_mode_statistics_on_hand_made_samples():
  centers = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]])
  samples = np.array([[0.01, 0.0], [0.0, -0.02], [2.0, 0.02], [1.0, 1.0]])  # last: far from all
  stats = mode_statistics(samples, centers, std=0.01)
  assert stats['captured'] == 2
  assert stats['high_quality'] == 0.75
  q = np.array([2 / 3, 1 / 3])  # high-quality histogram over the 2 hit modes of 4
  np.testing.assert_allclose(stats['reverse_kl'], np.sum(q * np.log(q * 4)))
  stats = mode_statistics(centers, centers, std=0.01)
  assert stats == {'captured': 4, 'high_quality': 1.0, 'reverse_kl': 0.0}


def test_covered_modes_in_1d_needs_a_share_of_the_samples():
  centers, std = np.array([[-3.0], [0.0], [3.0]]), 0.5
  samples = np.concatenate([np.full(50, -3.0), np.full(45, 0.1), np.full(5, 3.2)])
  assert toy1d.covered_modes(samples, centers, std) == 2  # 5 < 100 / 3 / 4 samples at +3
  assert mode_statistics(samples[:, None], centers, std)['captured'] == 3
  assert toy1d.covered_modes(np.full(10, 10.0), centers, std) == 0


def test_sweeps_train_seeds_in_lock_step_with_packing():
  config = _toy_config(pack=2, batch_size=8)
  runs = sweeps.ToyRuns(config, seeds=[0, 1])
  states = runs.train(3, chunk=3)
  assert states.step.tolist() == [3, 3]
  samples = runs.sample(states, 5)
  assert samples.shape == (2, 5, 2) and np.isfinite(samples).all()
  assert not np.allclose(samples[0], samples[1])  # different seeds, different runs
  np.testing.assert_array_equal(runs.sample(states, 5), samples)  # a sample seed is a pure key
  assert not np.allclose(runs.sample(states, 5, seed=1), samples)
  assert runs.num_compiles == 3  # init, advance, sample: one compile served the three samples
  # Swapping the seeds swaps the runs: each run depends on its own seed only.
  swapped = sweeps.ToyRuns(config, seeds=[1, 0]).train(3, chunk=3)
  np.testing.assert_allclose(np.asarray(states.g.params['Dense_0']['kernel'][::-1]),
                             np.asarray(swapped.g.params['Dense_0']['kernel']), rtol=1e-5,
                             atol=1e-6)


def test_a_sweep_run_is_the_trainers_init_and_step_on_its_batches():
  """ToyRuns trains with train.Experiment's own init_fn and train_step_fn (vmapped, scanned):
  one run replayed here with the trainer's pieces, on the same batches, ends in the same state."""
  config = _toy_config(batch_size=8, d_steps=2, penalty='r1', penalty_weight=1.0,
                       penalty_every=2, ema_decay=0.9)
  runs = sweeps.ToyRuns(config, seeds=[3])
  swept = jax.tree.map(lambda x: x[0], runs.train(3, chunk=3))
  experiment, m = runs.experiment, runs.mixtures
  state = jax.jit(experiment.init_fn())(runs._init_keys[0])
  step = jax.jit(experiment.train_step_fn())
  for s in range(3):
    x = sweeps.sample_mixture(jax.random.fold_in(runs._data_keys[0], s), m['centers'][0],
                              m['num_modes'][0], m['std'][0], (2, 8))
    state, _ = step(state, {'x': x}, runs._train_keys[0])
  assert int(swept.step) == int(state.step) == 3
  for a, b in zip(jax.tree.leaves(swept), jax.tree.leaves(state)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def test_mixtures_and_mean_standard_error():
  m = sweeps.Mixtures.stack([toy1d.synthetic.gauss1d(num_modes=k) for k in (1, 3)])
  assert m.centers.shape == (2, 3, 1)
  assert m.num_modes.tolist() == [1, 3]
  x = sweeps.sample_mixture(jax.random.key(0), jnp.asarray(m.centers[0]), m.num_modes[0], 0.5,
                            (2000,))
  assert abs(float(x.mean())) < 0.05 and abs(float(x.std()) - 0.5) < 0.03  # only mode 0 used
  # Padding changes no draw: the 2-mode mixture padded to 3 rows gives its unpadded batches.
  two = toy1d.synthetic.gauss1d(num_modes=2).centers
  padded = np.concatenate([two, [[9.0]]])
  np.testing.assert_array_equal(
      sweeps.sample_mixture(jax.random.key(5), jnp.asarray(padded), 2, 0.5, (64,)),
      sweeps.sample_mixture(jax.random.key(5), jnp.asarray(two), 2, 0.5, (64,)))
  mean, se = sweeps.mean_and_standard_error([[1.0, 8], [3.0, 8]])
  np.testing.assert_allclose(mean, [2.0, 8.0])
  np.testing.assert_allclose(se, [1.0, 0.0])  # std (ddof=1) sqrt(2) / sqrt(2)


def test_modes2d_method_configs_and_figure_options():
  assert modes2d.method_config('ring8', 'pacgan3', 10).pack == 3
  assert modes2d.method_config('grid25', 'unrolled5', 10).unroll_steps == 5
  assert modes2d.method_config('ring8', 'minibatch', 10).discriminator.minibatch_kernels > 0
  for method in modes2d.METHODS:
    config_lib.validate(modes2d.method_config('ring8', method, 10))
  with pytest.raises(ValueError, match='valid methods'):
    modes2d.method_config('ring8', 'wgan', 10)
  c = modes2d.method_config('ring8', 'gan', 100)
  assert c.batch_size % 12 == 0  # packs 2, 3 and 4 all keep the batch
  # Both learning rates are constant for the first 30% of the run, then fall linearly to 0.
  lr = c.optimizer_d.learning_rate
  for opt in (c.optimizer_g, c.optimizer_d):
    schedule = optimizers.make_schedule(opt)
    np.testing.assert_allclose([schedule(0), schedule(30), schedule(65), schedule(100)],
                               [lr, lr, lr / 2, 0.0], rtol=1e-6, atol=1e-12)
  # arch=paper: PacGAN's released networks and optimiser; a packed D sees 100 packed inputs.
  for method in modes2d.METHODS:
    config_lib.validate(modes2d.method_config('grid25', method, 10, 'paper'))
  c = modes2d.method_config('grid25', 'pacgan3', 10, 'paper')
  assert (c.pack, c.batch_size) == (3, 300)
  assert c.discriminator.maxout_pieces == 5 and c.generator.norm == 'batch'
  assert (c.optimizer_g.learning_rate, c.optimizer_g.b1, c.optimizer_g.schedule) == (
      1e-4, 0.8, 'constant')
  assert modes2d.method_config('grid25', 'gan', 10, 'paper', 1e-3).optimizer_d.learning_rate == 1e-3
  assert modes2d.PAPER_NUM_STEPS == 400_000
  with pytest.raises(ValueError, match='valid archs'):
    modes2d.method_config('ring8', 'gan', 10, 'big')
  assert figures_main.parse_options(['num_steps=20', 'minibatch=true', 'methods=gan;pacgan2',
                                     'lr=0.5']) == {'num_steps': 20, 'minibatch': True,
                                                    'methods': 'gan,pacgan2', 'lr': 0.5}


def test_modes2d_command_writes_the_csv_table_and_figure(tmp_path, capsys):
  """The command end to end at a few steps (arch=paper: BatchNorm G, maxout D, packing)."""
  path = modes2d.run(str(tmp_path), num_steps=3, seeds=2, methods='gan,pacgan2',
                     datasets='grid25', arch='paper', num_samples=100, log_every=2)
  printed = capsys.readouterr().out
  assert 'grid25 pacgan2 step 2: modes' in printed and 'grid25 pacgan2 (3 steps): modes' in printed
  assert path == str(tmp_path / 'figures' / 'modes2d.png') and os.path.getsize(path) > 0
  with open(tmp_path / 'modes2d.csv') as f:
    rows = list(csv.DictReader(f))
  assert [tuple(r) for r in rows] == [modes2d.COLUMNS] * 2
  assert [(r['dataset'], r['method']) for r in rows] == [('grid25', 'gan'), ('grid25', 'pacgan2')]
  # Seed 0's samples, scored here: with two seeds, mean -+ standard error are the two runs' values
  # (se = |a - b| / 2), so seed 0's statistics must be one of them.
  seed0 = np.load(tmp_path / 'modes2d_samples.npz')
  grid = synthetic.grid25()
  for r in rows:
    own = mode_statistics(seed0[f"grid25/{r['method']}"], grid.centers, grid.std)
    for column, key in (('modes', 'captured'), ('high_quality', 'high_quality')):
      mean, se = float(r[f'{column}_mean']), float(r[f'{column}_se'])
      assert min(abs(mean - se - own[key]), abs(mean + se - own[key])) < 1e-5, (column, r)
  table = (tmp_path / 'modes2d.md').read_text()
  assert 'arch=paper' in table and '| grid25 | pacgan2 | 3 |' in table
  assert '23.8 ± 0.7' in table and '24.8' not in table  # published PacGAN2 beside ours only
