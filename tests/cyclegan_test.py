"""CycleGAN and pix2pix: networks, image pool, losses, data, a train step, evaluators, figure."""
import json
import os
import shutil
import subprocess
import sys
import types

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO, SHARED, write_synthetic_mnist
from PIL import Image

from gan_research import config_lib, games, metrics, train
from gan_research.data import images, translation
from gan_research.metrics.translation import TranslationEvaluator
from gan_research.models import cyclegan, pix2pix
from gan_research.ops import conv, conv_transpose


def _param_count(module, shape):
  variables = jax.eval_shape(lambda: module.init(jax.random.key(0), jnp.zeros(shape), train=False))
  return sum(x.size for x in jax.tree.leaves(variables['params']))


def _init(module, x, seed=0):
  return jax.jit(lambda key: module.init(key, x, train=False))(jax.random.key(seed))


def test_parameter_counts_match_the_reference_printouts():
  # The reference code prints 11.378 M (resnet_9blocks), 2.765 M (basic D), 54.414 M (unet_256)
  # and 2.769 M (pix2pix D on 3 + 3 channels); exact counts of the same layer lists.
  assert _param_count(cyclegan.Generator((256, 256, 3), num_res_blocks=9),
                      (1, 256, 256, 3)) == 11_378_179
  assert _param_count(cyclegan.Generator((128, 128, 3), num_res_blocks=6),
                      (1, 128, 128, 3)) == 7_837_699
  assert _param_count(cyclegan.Discriminator(), (1, 256, 256, 3)) == 2_764_737
  assert _param_count(pix2pix.Generator((256, 256, 3)), (1, 256, 256, 3)) == 54_413_955
  assert _param_count(pix2pix.Discriminator(norm='batch'), (1, 256, 256, 6)) == 2_768_705


def test_resnet_generator_layout_and_shapes():
  g = cyclegan.Generator((32, 32, 3), base_width=4, num_res_blocks=2)
  x = jax.random.uniform(jax.random.key(0), (2, 32, 32, 1), minval=-1, maxval=1)
  variables = _init(g, x, 1)
  params = variables['params']
  assert set(variables) == {'params'}  # instance norm without affine: nothing else to carry
  kernels = sorted(leaf.shape for path, leaf in jax.tree_util.tree_leaves_with_path(params)
                   if path[-1].key == 'kernel')
  # c7s1-4, d8, d16, R16 x 2 (two 3x3 convolutions each), u8, u4, c7s1-3
  expected = [(7, 7, 1, 4), (3, 3, 4, 8), (3, 3, 8, 16)] + [(3, 3, 16, 16)] * 4 + [
      (3, 3, 16, 8), (3, 3, 8, 4), (7, 7, 4, 3)]
  assert kernels == sorted(expected)
  assert len([k for k in params if k.startswith('ResidualBlock')]) == 2
  y = jax.jit(lambda v, x: g.apply(v, x, train=True))(variables, x)
  assert y.shape == (2, 32, 32, 3) and float(jnp.max(jnp.abs(y))) <= 1.0
  with pytest.raises(ValueError, match='divisible'):
    jax.eval_shape(lambda: g.apply(variables, jnp.zeros((1, 30, 30, 1)), train=False))
  with pytest.raises(ValueError, match="valid: \\['instance', 'batch', 'none'\\]"):
    jax.eval_shape(lambda: cyclegan.Generator((32, 32, 3), norm='layer').init(
        jax.random.key(0), x, train=False))


def test_patchgan_logit_sees_a_70x70_patch():
  # Without norms: instance norm's statistics would make every logit see the whole image.
  d = cyclegan.Discriminator(base_width=2, norm='none')
  x = jnp.zeros((1, 128, 128, 1))
  variables = _init(d, x)
  assert jax.eval_shape(lambda: d.apply(variables, x, train=False)).shape == (1, 14, 14)
  grad = jax.jit(jax.grad(lambda x: d.apply(variables, x, train=False)[0, 7, 7]))(
      jax.random.normal(jax.random.key(1), x.shape))
  rows, cols = np.nonzero(np.abs(np.asarray(grad[0, :, :, 0])) > 0)
  assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


def test_unet_skips_dropout_and_shapes():
  u = pix2pix.Generator((64, 64, 1), base_width=1)  # 6 downsamplings: 64 -> 1
  x = jax.random.uniform(jax.random.key(0), (1, 64, 64, 1), minval=-1, maxval=1)
  variables = _init(u, x, 1)
  assert len([k for k in variables['params'] if k.startswith('Conv_')]) == 6
  apply = jax.jit(lambda v, x, k: u.apply(v, x, train=True, mutable=['batch_stats'],
                                          rngs={'dropout': k})[0])
  a, b = (apply(variables, x, jax.random.key(k)) for k in (0, 1))
  assert a.shape == (1, 64, 64, 1) and float(jnp.max(jnp.abs(a))) <= 1.0
  assert not np.allclose(a, b)  # dropout 0.5 on the layer next to the innermost (3 at 256)
  up = sorted((k for k in variables['params'] if k.startswith('ConvTranspose')),
              key=lambda k: int(k.rsplit('_', 1)[1]))
  # Encoder widths 1, 2, 4, 8, 8, 8: each decoder layer after the innermost takes
  # [skip, up] concatenated, twice the width of the encoder layer it mirrors.
  in_widths = [variables['params'][k]['kernel'].shape[2] for k in up]
  assert in_widths == [8, 16, 16, 8, 4, 2]


# ops/conv.py and ops/conv_transpose.py offer the same backward names; conv_backward sets both.
@pytest.mark.parametrize('backward', conv.BACKWARD_METHODS)
@pytest.mark.parametrize('name', ['resnet', 'patchgan', 'unet'])
def test_custom_vjp_convolutions_compute_the_plain_model(name, backward):
  assert conv.BACKWARD_METHODS == conv_transpose.BACKWARD_METHODS
  # conv_impl='custom_vjp' (strided / transposed convolutions with hand-written gradients, either
  # backward) against flax's own layers: the same parameters give the same outputs and gradients.
  make, shape = {
      'resnet': (lambda **kw: cyclegan.Generator((16, 16, 3), base_width=2, num_res_blocks=1,
                                                 **kw), (2, 16, 16, 3)),
      'patchgan': (lambda **kw: cyclegan.Discriminator(base_width=2, **kw), (2, 32, 32, 3)),
      'unet': (lambda **kw: pix2pix.Generator((16, 16, 1), base_width=2, dropout_rate=0.0, **kw),
               (2, 16, 16, 1)),
  }[name]
  fast, plain = make(conv_impl='custom_vjp', conv_backward=backward), make(conv_impl='lax')
  x = jax.random.normal(jax.random.key(0), shape)
  variables = _init(fast, x)
  assert jax.tree.structure(variables) == jax.tree.structure(_init(plain, x))

  def loss(params, x, module):
    out, _ = module.apply({**variables, 'params': params}, x, train=True, mutable=['batch_stats'])
    return jnp.sum(jnp.sin(3.0 * out))

  grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)), static_argnums=2)
  (l_fast, g_fast), (l_plain, g_plain) = (grad(variables['params'], x, m) for m in (fast, plain))
  np.testing.assert_allclose(l_fast, l_plain, rtol=1e-5, atol=1e-5)
  # A bias under instance norm has a true gradient of 0 (rounding noise in both, up to 3e-7 of
  # the largest gradient): tolerances are on the scale of the leaf, but not below 1e-2 of the
  # largest gradient.
  scale = max(float(jnp.max(jnp.abs(b))) for b in jax.tree.leaves(g_plain))
  for a, b in zip(jax.tree.leaves(g_fast), jax.tree.leaves(g_plain)):
    atol = 2e-4 * max(float(jnp.max(jnp.abs(b))), 1e-2 * scale)
    np.testing.assert_allclose(a, b, rtol=2e-3, atol=atol)


def _values(array):
  return [float(v) for v in np.asarray(array)[:, 0, 0, 0]]


def test_image_pool_returns_new_images_until_full_then_a_50_50_mix():
  size = 4
  pool, count = jnp.zeros((size, 1, 1, 1)), jnp.zeros((), jnp.int32)
  # Image k is the constant k, so a returned value tells which image it is.
  first = jnp.arange(1.0, 4.0).reshape(3, 1, 1, 1)
  out, pool, count = games.image_pool_query(pool, count, first, jax.random.key(0))
  assert _values(out) == [1.0, 2.0, 3.0] and int(count) == 3
  out, pool, count = games.image_pool_query(pool, count, jnp.full((1, 1, 1, 1), 4.0),
                                            jax.random.key(1))
  assert _values(out) == [4.0] and int(count) == 4 and sorted(_values(pool)) == [1, 2, 3, 4]
  query = jax.jit(games.image_pool_query)
  from_pool, n = 0, 600
  for k in range(5, 5 + n):
    before = set(_values(pool))
    out, pool, count = query(pool, count, jnp.full((1, 1, 1, 1), float(k)),
                             jax.random.key(k))
    value, after = _values(out)[0], set(_values(pool))
    if value == k:  # returned the new image: the pool is unchanged
      assert after == before
    else:  # returned a stored image, and the new one took its place
      from_pool += 1
      assert value in before and after == (before - {value}) | {k}
  assert int(count) == size
  assert 0.4 < from_pool / n < 0.6  # binomial(600, 1/2): std 0.02
  empty = jnp.zeros((0, 1, 1, 1))
  out, _, _ = games.image_pool_query(empty, jnp.zeros((), jnp.int32), first, jax.random.key(0))
  assert _values(out) == [1.0, 2.0, 3.0]


def test_cycle_and_identity_losses_by_hand():
  x, rx = jnp.array([0.5, -1.0]), jnp.array([0.0, 1.0])  # |.| = 0.5, 2 -> mean 1.25
  y, ry = jnp.array([0.2, 0.2, 0.2, 0.2]), jnp.array([0.2, 0.2, 0.2, -0.6])  # mean 0.2
  np.testing.assert_allclose(games.cycle_loss(x, rx, y, ry), 1.45, rtol=1e-6)
  # identity_loss(x, F(x), y, G(y)) = mean|G(y) - y| + mean|F(x) - x|
  np.testing.assert_allclose(games.identity_loss(x, rx, y, ry), 1.45, rtol=1e-6)
  np.testing.assert_allclose(games.identity_loss(x, x, y, y), 0.0)


class _Scale(nn.Module):
  """G(x) = w x: a generator whose losses can be written down."""

  @nn.compact
  def __call__(self, x, *, train):
    return self.param('w', nn.initializers.ones, ()) * x


class _ConstantLogit(nn.Module):
  @nn.compact
  def __call__(self, x, *, train):
    return jnp.zeros(x.shape[:3]) + self.param('c', nn.initializers.zeros, ())


class _Inputs:
  test = {'x': np.zeros((3, 2, 2, 1), np.uint8), 'y': np.zeros((3, 2, 2, 1), np.uint8)}


def test_cyclegan_generator_loss_by_hand():
  game = games.CycleGAN(_Scale(), _ConstantLogit(), objective='least_squares', cycle_weight=10.0,
                        identity_weight=0.5, adversarial_weight=2.0, pool_size=3,
                        source=_Inputs())
  x = jnp.array([1.0, -0.5, 0.25, 0.0]).reshape(1, 2, 2, 1)
  y = jnp.array([0.5, 0.5, -1.0, 0.0]).reshape(1, 2, 2, 1)
  a, b, c_x, c_y = 0.5, 2.0, 0.3, -0.2  # G = a*, F = b*, D_X = c_x, D_Y = c_y
  g_params = {'G': {'w': jnp.array(a)}, 'F': {'w': jnp.array(b)}}
  d_params = {'D_X': {'c': jnp.array(c_x)}, 'D_Y': {'c': jnp.array(c_y)}}
  loss, (_, _, metrics) = game.g_loss(g_params, {}, d_params, {}, {}, {'x': x, 'y': y},
                                      jax.random.key(0), True)
  mx, my = np.mean(np.abs(x)), np.mean(np.abs(y))  # 0.4375, 0.5
  adversarial = 0.5 * (c_y - 1) ** 2 + 0.5 * (c_x - 1) ** 2  # least-squares g_loss of each D
  cycle = abs(a * b - 1) * (mx + my)  # F(G(x)) = ab x, G(F(y)) = ab y: ab = 1 -> 0
  identity = abs(a - 1) * my + abs(b - 1) * mx
  np.testing.assert_allclose(metrics['loss/g_adversarial'], adversarial, rtol=1e-6)
  np.testing.assert_allclose(metrics['loss/cycle'], cycle, atol=1e-7)
  np.testing.assert_allclose(metrics['loss/identity'], identity, rtol=1e-6)
  np.testing.assert_allclose(loss, 2 * adversarial + 10 * cycle + 10 * 0.5 * identity,
                             rtol=1e-6)
  # The discriminators' loss: 1/2 (c - 1)^2 + 1/2 c^2 each; the pool takes the fakes.
  extras = game.init(jax.random.key(0), x)[2]
  d_loss, (_, extras, _) = game.d_loss(d_params, {}, g_params, {}, extras, {'x': x, 'y': y},
                                       jax.random.key(1), True)
  expected = sum(0.5 * (c - 1) ** 2 + 0.5 * c ** 2 for c in (c_x, c_y))
  np.testing.assert_allclose(d_loss, expected, rtol=1e-6)
  np.testing.assert_allclose(extras['pool_y'][0], a * x[0])  # G(x) went into D_Y's pool
  np.testing.assert_allclose(extras['pool_x'][0], b * y[0])
  assert int(extras['pool_x_count']) == int(extras['pool_y_count']) == 1


def _save(path, array):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(array).save(path)


def _folder_config(root, **overrides):
  c = config_lib.base_config()
  c.dataset, c.data_dir, c.image_size = 'unpaired_folder', str(root), 8
  c.data = {'load_size': 10, 'flip': True}
  c.update(overrides)
  return c


def test_unpaired_folder_shuffles_the_domains_independently_with_crops_and_flips(tmp_path):
  for folder, count, colour in (('trainA', 3, (255, 0, 0)), ('trainB', 5, (0, 0, 255)),
                                ('testA', 2, (255, 0, 0)), ('testB', 2, (0, 0, 255))):
    for i in range(count):
      image = np.zeros((12, 12, 3), np.uint8)
      image[:] = colour
      image[:, :6, 1] = 10 * i  # the left half tags the image: flips move it right
      _save(str(tmp_path / folder / f'{i}.png'), image)
  source = translation.get_source(_folder_config(tmp_path))
  assert source.example_shape == (8, 8, 3) and len(source) == 5
  batch = source.get_batch(0, d_steps=2, batch_size=5)
  assert batch['x'].shape == batch['y'].shape == (2, 5, 8, 8, 3)
  assert np.all(batch['x'][..., 0] == 1) and np.all(batch['y'][..., 2] == 1)
  # Domain B's first epoch visits each of its 5 images once, whatever A does.
  tags = np.round((batch['y'][0, :, :, :, 1].max(axis=(1, 2)) + 1) * 127.5 / 10)
  assert sorted(tags) == [0, 1, 2, 3, 4]
  flipped = [np.all(im[:, 0, 1] == -1) and not np.all(im[:, -1, 1] == -1)
             for im in source.get_batch(1, d_steps=40, batch_size=5)['y'].reshape(-1, 8, 8, 3)
             if im[:, :, 1].max() > -1]
  assert 0.3 < np.mean(flipped) < 0.7  # random left-right flips
  np.testing.assert_array_equal(source.get_batch(3, d_steps=1, batch_size=4)['y'],
                                source.get_batch(3, d_steps=1, batch_size=4)['y'])
  assert source.fixed_inputs(8)['x'].shape == (2, 8, 8, 3)  # the test folders
  with pytest.raises(FileNotFoundError, match='train_folders'):
    translation.get_source(_folder_config(tmp_path, data_dir=str(tmp_path / 'testA')))


def test_monet2photo_test_folders_train_out_of_the_box():
  config = _experiment_config('')
  assert config.data_dir == '../shared/data/monet2photo_128' and config.image_size == 128
  assert config.generator.num_res_blocks == 6 and config.batch_size == 1
  assert config.num_train_steps == 200 * 250 and config.optimizer_g.decay_start_steps == 25_000
  config.data_dir = os.path.join(SHARED, 'data', 'monet2photo_128')
  config.image_size = 16  # quick to load; the layout is what is tested
  source = translation.get_source(config)
  assert (len(source.x), len(source.y)) == (121, 250)  # testA Monet, testB photos
  assert source.get_batch(0, d_steps=1, batch_size=1)['x'].shape == (1, 1, 16, 16, 3)


def test_tfds_cycle_gan_reads_its_four_splits(monkeypatch):
  calls = []

  def fake_load(name, split, data_dir):
    calls.append((name, split))
    value = {'trainA': 10, 'trainB': 20, 'testA': 30, 'testB': 40}[split]
    return np.full((3, 16, 16, 3), value, np.uint8), None

  monkeypatch.setattr(translation.images, 'load_tfds', fake_load)
  c = config_lib.base_config()
  c.dataset, c.image_size = 'cycle_gan/horse2zebra', 8
  source = translation.get_source(c)
  assert sorted(calls) == sorted(('cycle_gan/horse2zebra', s)
                                 for s in ('trainA', 'trainB', 'testA', 'testB'))
  assert source.x.max() == 10 and source.y.max() == 20 and source.test['y'].max() == 40


def test_paired_folder_keeps_pairs_through_crops_and_flips(tmp_path):
  for i in range(4):
    image = np.zeros((10, 20, 3), np.uint8)
    image[:, :10] = 20 * i  # A
    image[:, 10:] = 20 * i + 100  # B
    image[:, 0:2, 1] = image[:, 10:12, 1] = 255  # a stripe on the left of both halves
    _save(str(tmp_path / 'train' / f'{i}.png'), image)
  c = _folder_config(tmp_path, dataset='paired_folder')
  source = translation.get_source(c)
  batch = source.get_batch(0, d_steps=8, batch_size=4)
  x, y = batch['x'].reshape(-1, 8, 8, 3), batch['y'].reshape(-1, 8, 8, 3)
  np.testing.assert_allclose(y[..., 0] - x[..., 0], 100 / 127.5, atol=1e-5)  # B = A + 100
  np.testing.assert_array_equal(x[..., 1] == 1, y[..., 1] == 1)  # same crop and flip
  c.data.direction = 'BtoA'
  assert translation.get_source(c).x.max() > 100


def test_inverted_mnist_domains_come_from_disjoint_halves(mnist_dir):
  train, test = translation.inverted_mnist(mnist_dir, 28)
  assert train['x'].shape == train['y'].shape == (30_000, 28, 28, 1)
  np.testing.assert_array_equal(test['y'], 255 - test['x'])
  x_rows = {row.tobytes() for row in train['x'][:2000]}
  assert not any((255 - y).tobytes() in x_rows for y in train['y'][:2000])


def test_translation_error_by_hand():
  class Source:
    answer = 'colour_inverse'

    def __init__(self):
      self.test = {'x': np.array([[[[0]], [[255]]], [[[51]], [[102]]]], np.uint8),
                   'y': np.zeros((2, 2, 1, 1), np.uint8)}

  evaluator = TranslationEvaluator({'batch_size': 3}, Source())
  # Identity instead of inversion: |x - (1 - x)| = |2x - 1| on [0, 1] pixels 0, 1, 0.2, 0.4.
  evaluator._translate = lambda p, s, x, d: x
  np.testing.assert_allclose(evaluator.error(None, {}, evaluator.inputs['x'], 'G'),
                             np.mean([1, 1, 0.6, 0.2]), rtol=1e-6)
  evaluator._translate = lambda p, s, x, d: -x  # the inversion: error 0
  assert evaluator.error(None, {}, evaluator.inputs['x'], 'G') < 1e-7


def _experiment_config(arg):
  import importlib.util
  path = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'experiments', 'cyclegan.py')
  spec = importlib.util.spec_from_file_location('cyclegan_experiment', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


@pytest.fixture(scope='module')
def cyclegan_run(tmp_path_factory):
  """A tiny CycleGAN trained one step on synthetic inverted MNIST:
  (workdir, config, initial state, final state)."""
  data_dir = write_synthetic_mnist(tmp_path_factory.mktemp('data') / 'synthetic_mnist')
  config = _experiment_config('dataset=inverted_mnist,runlocal')
  config.data_dir, config.image_size = data_dir, 28
  config.batch_size, config.num_train_steps = 2, 1
  config.generator.update(base_width=2, num_downsamplings=1)
  config.discriminator.update(base_width=2, num_layers=1)
  config.evals.translation = {'every_steps': 1, 'num_samples': 8, 'batch_size': 8}
  workdir = str(tmp_path_factory.mktemp('cyclegan'))
  initial = jax.device_get(train.build(config).init_state(train._rngs(config.seed)['init']))
  final = jax.device_get(train.train_and_evaluate(config, workdir))
  return workdir, config, initial, final


def _rows(workdir):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [json.loads(line) for line in f]


def test_cyclegan_train_step_evaluator_and_figure(cyclegan_run):
  workdir, config, initial, final = cyclegan_run
  for new, old, names in ((final.g, initial.g, ('G', 'F')), (final.d, initial.d, ('D_X', 'D_Y'))):
    for name in names:  # every network made an update
      assert any(not np.allclose(a, b) for a, b in zip(jax.tree.leaves(new.params[name]),
                                                        jax.tree.leaves(old.params[name])))
  assert int(final.extras['pool_x_count']) == int(final.extras['pool_y_count']) == 2
  rows = _rows(workdir)
  losses = next(r for r in rows if 'loss/g' in r)
  assert {'loss/cycle', 'loss/d_x', 'loss/d_y', 'loss/g_adversarial'} <= set(losses)
  assert all(np.isfinite(v) for v in losses.values())
  errors = [r for r in rows if 'translation/l1_error' in r]
  assert len(errors) == 1
  # The error by hand: mean |T(a) - (1 - a)| in [0, 1] units over the first 8 test images, for
  # G on the digits and F on their inverses, with the final (EMA) generators.
  test = translation.inverted_mnist(config.data_dir, 28)[1]
  game = train.build(config).game
  for name, direction, key in (('translation/l1_error', 'G', 'x'),
                               ('translation/l1_error_f', 'F', 'y')):
    a = test[key][:8].astype(np.float64) / 255.0
    out = game.translate(final.sampling_params, final.g.state,
                         jnp.asarray(2 * a - 1, jnp.float32), direction)
    expected = np.mean(np.abs((np.asarray(out, np.float64) + 1) / 2 - (1 - a)))
    assert errors[0][name] == pytest.approx(expected, rel=1e-4), name
  assert os.path.exists(os.path.join(workdir, 'samples', 'step_000001.png'))
  from gan_research.figures import translation as translation_figure
  path = translation_figure.run(workdir)
  assert path == os.path.join(workdir, 'figures', 'translation.png')
  assert np.asarray(Image.open(path)).shape[:2] == (8 * 29 + 1, 6 * 29 + 1)  # 8 rows x 6


def test_evaluate_cli_translation_on_a_cyclegan_run(cyclegan_run, tmp_path):
  # As users run it, in a subprocess (evaluate.py's flags stay out of this test process), on a
  # copy of the run: the CLI appends to metrics.jsonl.
  workdir = str(tmp_path / 'run')
  shutil.copytree(cyclegan_run[0], workdir)
  run = subprocess.run([sys.executable, '-m', 'gan_research.evaluate', f'--workdir={workdir}',
                        '--metrics=translation', '--num_samples=8'], cwd=REPO,
                       capture_output=True, text=True, check=False)
  assert run.returncode == 0, run.stderr[-2000:]
  result = json.loads(run.stdout.strip().splitlines()[-1])
  assert (result['step'], result['num_samples'], result['extractor']) == (1, 8, None)
  values = result['values']
  assert sorted(values) == ['translation/l1_error', 'translation/l1_error_f']
  # By hand from the restored generators' translations of the first 8 test images: the mean
  # |T(a) - (1 - a)| on [0, 1] pixels is mean |T(a) + a| / 2 on the models' [-1, 1] pixels.
  experiment, state = train.restore(workdir)
  for key, direction, domain in (('translation/l1_error', 'G', 'x'),
                                 ('translation/l1_error_f', 'F', 'y')):
    a = images.to_float(experiment.source.test[domain][:8])
    out = np.asarray(experiment.game.translate(state.sampling_params, state.g.state, a,
                                               direction), np.float32)
    assert np.isfinite(values[key])
    assert values[key] == pytest.approx(np.mean(np.abs(out + a)) / 2, rel=1e-5)
    assert values[key] != pytest.approx(np.mean(np.abs(a)), rel=1e-2)  # the identity's error
  # The training loop evaluated the same state through the same context: the same value.
  logged = next(r for r in _rows(cyclegan_run[0]) if 'translation/l1_error' in r)
  assert values['translation/l1_error'] == pytest.approx(logged['translation/l1_error'], rel=1e-5)
  assert _rows(workdir)[-1] == {'step': 1, **values}


def test_translation_evaluator_refuses_a_game_that_does_not_translate():
  class Source:
    answer = 'colour_inverse'
    test = {'x': np.zeros((2, 4, 4, 1), np.uint8), 'y': np.zeros((2, 4, 4, 1), np.uint8)}

  class Photos:  # a test split but no known answer (monet2photo, super-resolution pairs)
    answer = None
    test = Source.test

  with pytest.raises(ValueError, match='known answer.*answer=None'):
    TranslationEvaluator({}, Photos())

  assert [name for name, game in sorted(games.GAMES.items()) if game.translates] == [
      'cyclegan', 'pix2pix', 'superres']
  experiment = types.SimpleNamespace(game=games.GAMES['unconditional'],
                                     config=config_lib.base_config())
  ctx = metrics.EvalContext(experiment, None, None, jax.random.key(0))
  with pytest.raises(ValueError, match="image-to-image game.*'unconditional'"):
    TranslationEvaluator({}, Source())(ctx)


def test_pix2pix_train_step(tmp_path):
  for split in ('train', 'test'):
    for i in range(3):
      image = np.random.default_rng(i).integers(0, 255, (16, 32, 3), np.uint8)
      _save(str(tmp_path / split / f'{i}.png'), image)
  c = config_lib.base_config()
  c.update(game='pix2pix', model='pix2pix', dataset='paired_folder', data_dir=str(tmp_path),
           image_size=8, batch_size=2, objective='nonsaturating')
  c.game_kw = {'l1_weight': 100.0}
  c.generator = {'base_width': 1}
  c.discriminator = {'base_width': 1, 'num_layers': 1, 'norm': 'batch'}
  experiment = train.build(c)
  state = experiment.init_state(jax.random.key(0))
  assert set(state.g.state) == {'batch_stats'}
  before = jax.device_get(state)
  batch = experiment.source.get_batch(0, d_steps=1, batch_size=2)
  new, metrics = experiment.make_train_step()(state, batch, jax.random.key(1))
  metrics = jax.device_get(metrics)
  np.testing.assert_allclose(metrics['loss/g'],
                             metrics['loss/g_adversarial'] + 100 * metrics['loss/l1'], rtol=1e-5)
  assert not np.allclose(jax.tree.leaves(new.g.params)[0], jax.tree.leaves(before.g.params)[0])
  # Samples translate the test inputs without replacement: n = 3 of 3 inputs is each once.
  game, g = experiment.game, new.g
  every = np.asarray(game.translate(g.params, g.state, game.inputs['x']))
  for seed in range(3):
    drawn = np.asarray(game.sample(g.params, g.state, {}, jax.random.key(seed), 3))
    np.testing.assert_allclose(np.sort(drawn.reshape(3, -1).sum(1)),
                               np.sort(every.reshape(3, -1).sum(1)), rtol=1e-5)
  with pytest.raises(ValueError, match='two-domain dataset'):
    c.dataset = 'ring8'
    train.build(c)
  c.dataset, c.ema_decay = 'paired_folder', 0.99  # BatchNorm statistics would not fit EMA weights
  with pytest.raises(ValueError, match="ema_decay=0.99 with generator.norm='batch'"):
    train.build(c)
  c.generator.norm = 'instance'
  assert train.build(c).config.ema_decay == 0.99
