"""Class-conditional GANs: the conditioning layers by hand, samples by class, exact resume, errors."""
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from conftest import write_synthetic_mnist
from gan_research import config_lib, figures, train
from gan_research.data.images import to_uint8
from gan_research.metrics import conditional as cond_metrics
from gan_research.metrics import digit_classifier
from gan_research.models import dcgan


def cond_config(data_dir, g_cond='batchnorm', d_cond='acgan', **overrides):
  """A tiny conditional DCGAN on MNIST-shaped IDX files (conftest's synthetic digits)."""
  c = config_lib.base_config()
  c.game, c.model, c.dataset, c.data_dir = 'conditional', 'dcgan', 'mnist', data_dir
  c.image_size = 8  # the smallest DCGAN (4 -> 8): these tests check wiring, not image quality
  c.generator = dict(latent_dim=8, base_width=4, num_classes=10, cond=g_cond)
  c.discriminator = dict(base_width=4, num_classes=10, cond=d_cond)
  c.batch_size, c.num_train_steps, c.ema_decay = 8, 4, 0.9
  c.log_every_steps, c.checkpoint_every_steps, c.sample_every_steps = 2, 2, 0
  c.update(overrides)
  return c


@pytest.fixture(scope='module')
def digits_dir(tmp_path_factory):
  return write_synthetic_mnist(tmp_path_factory.mktemp('cond') / 'mnist')


@pytest.fixture(scope='module')
def trained(digits_dir, tmp_path_factory):
  """(workdir, final state) of an uninterrupted 4-step conditional run (cBN G, ACGAN D)."""
  workdir = str(tmp_path_factory.mktemp('cond_full'))
  return workdir, train.train_and_evaluate(cond_config(digits_dir), workdir)


def _perturbed(params, seed=0):
  """Parameters moved off their initialisation (cBN starts with scale 1, shift 0 for every class)."""
  rng = np.random.default_rng(seed)  # numpy: one jax.random call per shape would compile each
  return jax.tree.map(lambda p: p + 0.3 * rng.standard_normal(p.shape).astype(p.dtype), params)


def _apply(d, params, x, y):
  """D(x, y) in inference mode, compiled, with the features phi(x) it sows."""
  return jax.jit(lambda p, x, y: d.apply({'params': p}, x, y, train=False,
                                         mutable=['intermediates']))(params, x, y)


def test_projection_discriminator_is_psi_of_phi_plus_embedding_dot_phi():
  d = dcgan.Discriminator(base_width=4, norm='none', num_classes=3, cond='projection',
                          conv_impl='lax')
  x = jax.random.uniform(jax.random.key(1), (5, 16, 16, 1), minval=-1, maxval=1)
  y = jnp.array([0, 2, 1, 2, 0])
  params = _perturbed(d.init(jax.random.key(0), x, y, train=False)['params'])
  (logits, class_logits), inter = _apply(d, params, x, y)
  phi = np.asarray(inter['intermediates']['features'][0], np.float64)
  assert phi.shape == (5, 4 * 4 * 8) and class_logits is None
  head = params['Conv_2']  # psi: the VALID convolution over D's last 4x4 map, a linear map
  psi = phi @ np.asarray(head['kernel'], np.float64).reshape(-1) + float(head['bias'][0])
  embed = np.asarray(params['Embed_0']['embedding'], np.float64)[np.asarray(y)]
  np.testing.assert_allclose(logits, psi + np.sum(embed * phi, axis=1), rtol=1e-4, atol=1e-4)


def test_acgan_discriminator_classifies_phi_with_a_linear_head():
  d = dcgan.Discriminator(base_width=4, norm='none', num_classes=3, cond='acgan',
                          conv_impl='lax')
  x = jax.random.uniform(jax.random.key(1), (4, 16, 16, 1), minval=-1, maxval=1)
  y = jnp.array([0, 1, 2, 1])
  params = _perturbed(d.init(jax.random.key(0), x, y, train=False)['params'])
  (logits, class_logits), inter = _apply(d, params, x, y)
  phi = np.asarray(inter['intermediates']['features'][0], np.float64)
  dense = params['Dense_0']
  np.testing.assert_allclose(class_logits, phi @ np.asarray(dense['kernel'], np.float64)
                             + np.asarray(dense['bias']), rtol=1e-4, atol=1e-4)
  # The real/fake logit ignores the label: D(x, y) is the unconditional psi(phi(x)).
  other, _ = _apply(d, params, x, (y + 1) % 3)
  np.testing.assert_array_equal(other[0], logits)


@pytest.mark.parametrize('g_cond', ['batchnorm', 'concat'])
def test_samples_change_with_their_label_and_with_nothing_else(digits_dir, g_cond):
  experiment = train.build(cond_config(digits_dir, g_cond=g_cond, ema_decay=0.0))
  state = experiment.init_state(jax.random.key(0))
  state = state.replace(g=state.g.replace(params=_perturbed(state.g.params)))
  sample, rng = experiment.make_sampler(), jax.random.key(3)
  labels = np.arange(8) % 10
  base = sample(state, rng, 8, labels)
  relabelled = labels.copy()
  relabelled[4:] = (labels[4:] + 5) % 10
  moved = sample(state, rng, 8, relabelled)
  np.testing.assert_array_equal(moved[:4], base[:4])  # other samples' labels do not matter
  assert np.all(np.abs(moved[4:] - base[4:]).reshape(4, -1).max(axis=1) > 1e-3)
  # Nor do D's parameters, or which call drew them.
  other_d = state.replace(d=state.d.replace(params=_perturbed(state.d.params, seed=1)))
  np.testing.assert_array_equal(sample(other_d, rng, 8, labels), base)
  np.testing.assert_array_equal(sample(state, rng, 8, labels), base)


def test_resumed_conditional_run_equals_uninterrupted_run(digits_dir, trained, tmp_path):
  workdir, full = trained
  train.train_and_evaluate(cond_config(digits_dir, num_train_steps=2), str(tmp_path))
  resumed = train.train_and_evaluate(cond_config(digits_dir), str(tmp_path))
  assert int(resumed.step) == int(full.step) == 4
  for a, b in zip(jax.tree.leaves(full), jax.tree.leaves(resumed)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  metrics = open(os.path.join(workdir, 'metrics.jsonl')).read()
  assert 'loss/d_class' in metrics and 'loss/g_class' in metrics  # the ACGAN terms ran


def test_class_grid_has_a_row_per_class_and_a_latent_per_column(trained):
  workdir, _ = trained
  path = figures.get_figure('class_grid').run(workdir, num_samples=3, seed=4)
  grid = np.asarray(Image.open(path))
  assert grid.shape[:2] == (10 * 9 + 1, 3 * 9 + 1)  # 8-pixel tiles, 1-pixel borders
  tiles = grid[1:, 1:].reshape(10, 9, 3, 9)[:, :8, :, :8].transpose(0, 2, 1, 3)
  # Tile (row r, column j) is G(z_j, r): the latents of seed 4, one per column.
  experiment, state = train.restore(workdir)
  game = experiment.game

  @jax.jit
  def by_hand(state, key):
    z = jnp.tile(game.latents(key, 3), (10, 1))
    return game.generate_classes(state.sampling_params, state.g.state, z,
                                 jnp.repeat(jnp.arange(10), 3), ema=True)

  expected = by_hand(state, jax.random.key(4))
  np.testing.assert_array_equal(tiles, to_uint8(expected).reshape(10, 3, 8, 8))


def test_cond_accuracy_is_the_classifiers_agreement_with_the_requested_class(tmp_path):
  architecture = dict(width=4, hidden=8, num_classes=10)
  params = digit_classifier.DigitCNN(**architecture).init(jax.random.key(0),
                                                          jnp.zeros((1, 28, 28, 1)))
  digit_classifier.save_classifier(str(tmp_path), params, architecture, {})
  classifier = digit_classifier.DigitClassifier(params, architecture)
  images = np.asarray(jax.random.uniform(jax.random.key(1), (40, 28, 28, 1), minval=-1, maxval=1))
  asked = []

  def sample_fn(rng, n, labels=None):
    asked.append(np.asarray(labels))
    return images[:n]

  source = type('Labelled', (), {'num_classes': 10})()
  evaluator = cond_metrics.ConditionalAccuracyEvaluator(
      dict(num_samples=40, classifier_path=str(tmp_path)), source)
  ctx = type('Ctx', (), {'sample_fn': staticmethod(sample_fn), 'rng': jax.random.key(0)})()
  result = evaluator(ctx)
  np.testing.assert_array_equal(asked[0], np.arange(40) % 10)
  predicted = np.argmax(classifier.probs(images), axis=1)
  hits = predicted == np.arange(40) % 10
  assert result['cond/accuracy'] == pytest.approx(hits.mean())
  assert result['cond/min_class_accuracy'] == pytest.approx(
      min(hits[np.arange(40) % 10 == c].mean() for c in range(10)))


def test_conditional_errors_name_the_fix(digits_dir):
  with pytest.raises(ValueError, match=r'Labels out of range: the data has 10 classes .* '
                                       r'config.generator.num_classes=5'):
    train.build(cond_config(digits_dir, generator=dict(latent_dim=8, base_width=4,
                                                       num_classes=5, cond='concat')))
  with pytest.raises(ValueError, match='labels_per_class makes a labelled subset'):
    train.build(cond_config(digits_dir, data=dict(labels_per_class=2)))
  experiment = train.build(cond_config(digits_dir))
  state = experiment.init_state(jax.random.key(0))
  with pytest.raises(ValueError, match=r'Label 10 is out of range: this run has 10 classes'):
    experiment.make_sampler()(state, jax.random.key(0), 2, np.array([3, 10]))
  unconditional = train.build(cond_config(digits_dir, game='unconditional', generator=dict(
      latent_dim=8, base_width=4), discriminator=dict(base_width=4)))
  with pytest.raises(ValueError, match="does not generate by class"):
    unconditional.make_sampler()(state, jax.random.key(0), 2, np.array([3, 1]))
  g = dcgan.Generator(output_shape=(8, 8, 1), latent_dim=8, num_classes=10, cond='batchnorm')
  with pytest.raises(ValueError, match=r"cond='batchnorm' is class-conditional: pass labels"):
    g.init(jax.random.key(0), jnp.zeros((2, 8)), train=False)
  with pytest.raises(ValueError, match=r"num_classes=10 needs a conditioning method"):
    dcgan.Generator(output_shape=(8, 8, 1), num_classes=10).init(
        jax.random.key(0), jnp.zeros((2, 100)), train=False)
