"""The semi-supervised GAN (Salimans et al. 2016): its logits and losses against the formulas
computed by hand, the weight-normalised D, and the `ssl` evaluator on a short run that learns."""
import json
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import write_synthetic_mnist
from gan_research import config_lib, data, games, metrics, models, objectives, train
from gan_research.metrics import ssl

LOGITS = np.array([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0], [-3.0, 1.5, 40.0]], np.float32)
LABELS = np.array([0, 2, 1])


def _logsumexp(logits):
  logits = np.asarray(logits, np.float64)
  return np.log(np.sum(np.exp(logits), axis=-1))


def test_real_fake_logit_is_the_logsumexp_of_the_class_logits():
  lse = objectives.class_logsumexp(jnp.asarray(LOGITS))
  np.testing.assert_allclose(lse, _logsumexp(LOGITS), rtol=1e-6)
  # D(x) = Z / (Z + 1), Z = sum_k exp(l_k): the K+1-th (fake) class has its logit fixed at 0.
  z = np.sum(np.exp(LOGITS.astype(np.float64)), axis=-1)
  np.testing.assert_allclose(jax.nn.sigmoid(lse), z / (z + 1), rtol=1e-6)
  # Stable where exp overflows float32.
  assert np.isfinite(objectives.class_logsumexp(jnp.array([[100.0, 95.0]]))).all()


def test_classification_loss_is_the_softmax_cross_entropy():
  probs = np.exp(LOGITS.astype(np.float64)) / np.sum(np.exp(LOGITS.astype(np.float64)), -1,
                                                     keepdims=True)
  expected = np.mean(-np.log(probs[np.arange(3), LABELS]))
  np.testing.assert_allclose(objectives.classification_loss(jnp.asarray(LOGITS), LABELS),
                             expected, rtol=1e-6)


def test_feature_matching_loss_is_the_squared_distance_of_the_feature_means():
  rng = np.random.default_rng(0)
  real, fake = rng.normal(size=(6, 4)), rng.normal(size=(5, 4)) + 1.0
  expected = np.mean((real.mean(0) - fake.mean(0)) ** 2)
  np.testing.assert_allclose(objectives.feature_matching_loss(real, fake), expected, rtol=1e-5)


class _Labelled:
  """The part of a labelled source the game reads: its labelled subset and step-0 batch."""
  labelled = np.arange(4)

  def get_batch(self, step, *, d_steps, batch_size, **_):
    del step
    x = np.random.default_rng(1).uniform(-1, 1, (d_steps, batch_size, 3, 3, 1))
    return {'x': x.astype(np.float32)}


def _game(unlabelled_weight=1.0):
  # D's noise off: the hand computations below have none (the short run trains with it).
  config = config_lib.base_config()
  config.update(game='semi_supervised', model='ssl_mlp',
                generator=dict(latent_dim=4, hidden_sizes=(6,)),
                discriminator=dict(num_classes=3, hidden_sizes=(8, 5), input_noise_std=0.0,
                                   hidden_noise_std=0.0))
  config.game_kw = dict(unlabelled_weight=unlabelled_weight, init_examples=16)
  generator, discriminator = models.build(config, (3, 3, 1))
  return games.build(config, generator, discriminator, source=_Labelled(),
                     constrain=lambda x: x)


def _hand_d(params, x):
  """D without noise, in numpy: (class logits, last hidden layer), from the weight-norm formula
  y = x (v / ||v||) * scale + bias and ReLU between layers."""
  h = (np.asarray(x, np.float64).reshape(len(x), -1) + 1.0) / 2.0
  layers = sorted(params, key=lambda name: int(name.split('_')[-1]))
  for i, name in enumerate(layers):
    p = {k: np.asarray(v, np.float64) for k, v in params[name].items()}
    v = p['direction'] / np.sqrt(np.sum(p['direction'] ** 2, axis=0))
    y = h @ v * p['scale'] + p['bias']
    if i == len(layers) - 1:
      return y, h
    h = np.maximum(y, 0.0)


def _batch(n=6):
  rng = np.random.default_rng(2)
  return {'x': rng.uniform(-1, 1, (n, 3, 3, 1)).astype(np.float32),
          'labelled_x': rng.uniform(-1, 1, (n, 3, 3, 1)).astype(np.float32),
          'labelled_label': rng.integers(0, 3, n).astype(np.int32)}


@pytest.fixture(scope='module')
def played():
  """Everything the formula tests read of one init and one round of both losses, compiled as
  one function (op-by-op dispatch is far slower); also the supervised baseline's losses."""
  game, baseline = _game(), _game(unlabelled_weight=0.0)
  batch, rng, no = _batch(), jax.random.key(3), jnp.asarray(False)

  @jax.jit
  def play(init_rng):
    g_vars, d_vars, extras = game.init(init_rng, jnp.zeros((6, 3, 3, 1)))
    g, d = g_vars['params'], d_vars['params']
    (d_loss, (_, new_extras, d_metrics)), d_grads = jax.value_and_grad(
        game.d_loss, has_aux=True)(d, {}, g, {}, extras, batch, rng, no)
    g_loss, (_, _, g_metrics) = game.g_loss(g, {}, d, {}, extras, batch, rng, no)
    baseline_g_grads = jax.grad(
        lambda g: baseline.g_loss(g, {}, d, {}, extras, batch, rng, no)[0])(g)
    return dict(
        d=d, extras=extras, new_extras=new_extras, d_loss=d_loss, d_metrics=d_metrics,
        d_grads=d_grads, g_loss=g_loss, g_metrics=g_metrics,
        # Both losses draw G's samples from the second of their two keys.
        fake=game.sample(g, {}, extras, jax.random.split(rng)[1], 6),
        baseline_d_loss=baseline.d_loss(d, {}, g, {}, extras, batch, rng, no)[0],
        baseline_g_grads=baseline_g_grads)

  return game, batch, jax.device_get(play(jax.random.key(0)))


def test_losses_of_the_game_are_the_papers_formulas(played):
  game, batch, out = played
  d_params = out['d']
  lab_logits, _ = _hand_d(d_params, batch['labelled_x'])
  supervised = np.mean(_logsumexp(lab_logits) - lab_logits[np.arange(6), batch['labelled_label']])
  l_unl = _logsumexp(_hand_d(d_params, batch['x'])[0])
  l_fake = _logsumexp(_hand_d(d_params, out['fake'])[0])
  softplus = lambda t: np.log1p(np.exp(t))
  # The authors' loss_unl: -1/2 E l_unl + 1/2 E softplus(l_unl) + 1/2 E softplus(l_fake).
  unsupervised = (-0.5 * np.mean(l_unl) + 0.5 * np.mean(softplus(l_unl))
                  + 0.5 * np.mean(softplus(l_fake)))
  np.testing.assert_allclose(out['d_loss'], supervised + unsupervised, rtol=1e-4)
  np.testing.assert_allclose(out['d_metrics']['loss/d_supervised'], supervised, rtol=1e-4)
  # D's moving average took one step towards D's weights.
  decay = game.d_average_decay
  np.testing.assert_allclose(out['new_extras']['d_average']['WeightNormDense_0']['bias'],
                             decay * out['extras']['d_average']['WeightNormDense_0']['bias']
                             + (1 - decay) * d_params['WeightNormDense_0']['bias'], rtol=1e-6)
  # G: feature matching on D's last hidden layer.
  real_features = _hand_d(d_params, batch['x'])[1]
  fake_features = _hand_d(d_params, out['fake'])[1]
  expected = np.mean((real_features.mean(0) - fake_features.mean(0)) ** 2)
  np.testing.assert_allclose(out['g_loss'], expected, rtol=1e-4)
  assert out['g_metrics']['loss/g'] == out['g_loss']
  # The supervised baseline: the cross-entropy alone, and G out of the game.
  np.testing.assert_allclose(out['baseline_d_loss'], supervised, rtol=1e-4)
  assert all(np.abs(leaf).max() == 0.0 for leaf in jax.tree.leaves(out['baseline_g_grads']))


def test_weight_norm_initialises_from_data_and_keeps_hidden_scales_fixed(played):
  game, _, out = played
  # The first layer's pre-activations on the initialisation batch: mean 0, std 1 per unit.
  x = (game.init_data.reshape(len(game.init_data), -1) + 1.0) / 2.0
  p = out['d']['WeightNormDense_0']
  v = p['direction'] / np.linalg.norm(p['direction'], axis=0)
  pre = x @ v * p['scale'] + p['bias']
  np.testing.assert_allclose(pre.mean(0), 0.0, atol=1e-5)
  np.testing.assert_allclose(pre.std(0), 1.0, rtol=1e-4)
  # Only the output layer trains its scale (the authors' train_scale).
  grads = out['d_grads']
  assert np.abs(grads['WeightNormDense_0']['scale']).max() == 0.0
  assert np.abs(grads['WeightNormDense_1']['scale']).max() == 0.0
  assert np.abs(grads['WeightNormDense_2']['scale']).max() > 0.0
  assert np.abs(grads['WeightNormDense_0']['direction']).max() > 0.0


def test_the_game_needs_a_labelled_subset():
  class Unlabelled(_Labelled):
    labelled = None

  config = config_lib.base_config()
  config.update(game='semi_supervised', model='ssl_mlp')
  generator, discriminator = models.build(config, (3, 3, 1))
  with pytest.raises(ValueError, match='labels_per_class'):
    games.build(config, generator, discriminator, source=Unlabelled(), constrain=lambda x: x)


def test_error_percent_counts_the_wrong_argmaxes():
  assert ssl.error_percent(LOGITS, np.array([0, 0, 1])) == pytest.approx(100 / 3)
  with pytest.raises(ValueError, match=r'logits \[N, K\]'):
    ssl.error_percent(LOGITS[0], LABELS)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """A short semi-supervised run on synthetic digits, 2 labels per class."""
  root = tmp_path_factory.mktemp('ssl')
  config = config_lib.base_config()
  config.update(game='semi_supervised', model='ssl_mlp', dataset='mnist', image_size=28,
                data_dir=write_synthetic_mnist(root / 'digits'), batch_size=32,
                num_train_steps=40, log_every_steps=20, checkpoint_every_steps=40,
                sample_every_steps=40,
                generator=dict(latent_dim=16, hidden_sizes=(32,)),
                discriminator=dict(hidden_sizes=(64, 32)))
  config.game_kw = dict(init_examples=64, d_average_decay=0.9)
  config.data.labels_per_class = 2
  config.optimizer_g.learning_rate = config.optimizer_d.learning_rate = 3e-3
  config.evals.ssl = dict(every_steps=20, batch_size=64)
  workdir = str(root / 'run')
  state = train.train_and_evaluate(config, workdir)
  rows = [json.loads(line) for line in open(f'{workdir}/metrics.jsonl')]
  return config, state, rows


def test_a_short_run_learns_and_the_evaluator_scores_the_averaged_d(trained):
  config, state, rows = trained
  errors = [r['ssl/test_error'] for r in rows if 'ssl/test_error' in r]
  experiment = train.build(config)
  test = data.get_source(config, split='test')
  evaluator = ssl.SSLEvaluator({}, experiment.source)
  for trained_state, logged in ((experiment.init_state(jax.random.key(0)), None),
                                (state, errors[-1])):
    # The evaluator against D's averaged weights applied by hand (numpy) to the 100 test digits.
    logits, _ = _hand_d(trained_state.extras['d_average'], data.images.to_float(test.images))
    expected = 100.0 * np.mean(np.argmax(logits, -1) != test.labels)
    ctx = metrics.make_context(experiment, trained_state, None, jax.random.key(0))
    assert evaluator(ctx)['ssl/test_error'] == pytest.approx(expected, abs=1e-9)
    if logged is None:
      assert expected > 50.0  # untrained: near chance (90%)
    else:
      assert logged == pytest.approx(expected, abs=1e-9) and expected < 10.0, errors
  assert len(errors) == 2


def test_the_evaluator_needs_a_classifying_game(trained):
  config, state, _ = trained
  experiment = types.SimpleNamespace(game=games.GAMES['unconditional'], config=config)
  ctx = metrics.make_context(experiment, state, None, jax.random.key(0))
  with pytest.raises(ValueError, match='discriminator classifies'):
    ssl.SSLEvaluator({}, None)(ctx)
