"""StyleGAN2: shapes, pinned sizes, modulation, truncation, mixing, equalised LR, the train step."""
import importlib.util
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from gan_research import games, models, objectives, optimizers, steps, train_state
from gan_research.models import stylegan

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def experiment_config(arg):
  spec = importlib.util.spec_from_file_location(
      'stylegan_experiment', os.path.join(REPO, 'experiments', 'stylegan.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(arg)


def jitted_apply(module):
  """module.apply, jitted (op-by-op dispatch of a whole network is much slower than compiling)."""
  return jax.jit(module.apply, static_argnames=('train', 'noise_mode', 'method', 'mix_cutoff'))


def tiny_models(res, channels=1):
  config = experiment_config(f'preset=test,res={res}')
  return models.build(config, (res, res, channels))


@pytest.mark.parametrize('res,channels', [(8, 1), (16, 3), (32, 1)])
def test_shapes_at_several_resolutions(res, channels):
  generator, discriminator = tiny_models(res, channels)
  z = jnp.zeros((4, generator.latent_dim))
  g_vars = jax.eval_shape(lambda: generator.init(jax.random.key(0), z, train=False))
  images = jax.eval_shape(lambda v: generator.apply(v, z, train=False), g_vars)
  assert images.shape == (4, res, res, channels)
  ws = jax.eval_shape(lambda v: generator.apply(v, z, method='mapping'), g_vars)
  assert ws.shape == (4, 2 * int(np.log2(res)) - 2, generator.w_dim)
  x = jnp.zeros((4, res, res, channels))
  d_vars = jax.eval_shape(lambda: discriminator.init(jax.random.key(0), x, train=False))
  logits = jax.eval_shape(lambda v: discriminator.apply(v, x, train=True), d_vars)
  assert logits.shape == (4,)


# (G, D) parameters. Paper presets: shapes only (jax.eval_shape), nothing allocated.
PINNED_COUNTS = {
    'preset=test,res=32': (13_872, 13_853),
    'res=32': (288_868, 288_929),
    # StyleGAN2-ADA's CIFAR-10 settings: 2 mapping layers (6 x 4,160 fewer), D without skips.
    'preset=cifar': (263_908, 278_689),
    # StyleGAN2 config F widths; the noise strengths are per channel (5,551 parameters at 1024,
    # against 17 with one scalar per layer).
    'preset=paper256': (30_039_701, 28_864_129),
    'preset=paper1024': (30_375_611, 29_012_513),
}


@pytest.mark.parametrize('arg', sorted(PINNED_COUNTS))
def test_pinned_parameter_counts(arg):
  config = experiment_config(arg)
  channels = 1 if config.dataset == 'mnist' else 3
  generator, discriminator = models.build(config, (config.image_size,) * 2 + (channels,))
  assert stylegan.param_count(generator, discriminator) == PINNED_COUNTS[arg]


def test_orig_discriminator_is_the_resnet_one_without_its_skips():
  # StyleGAN2-ADA's CIFAR-10 config uses architecture='orig': the same blocks, no 1x1 skips.
  config = experiment_config('res=32')
  _, resnet = models.build(config, (32, 32, 1))
  config.discriminator.architecture = 'orig'
  generator, orig = models.build(config, (32, 32, 1))
  x = jnp.zeros((4, 32, 32, 1))
  shapes = lambda d: jax.eval_shape(lambda: d.init(jax.random.key(0), x, train=False))['params']
  orig_params, resnet_params = shapes(orig), shapes(resnet)
  assert sorted(set(resnet_params) - set(orig_params)) == ['b16_skip', 'b32_skip', 'b8_skip']
  width = lambda r: stylegan.channels_at(r, config.discriminator.channel_base,
                                         config.discriminator.channel_max)
  skips = sum(width(r) * width(r // 2) for r in (32, 16, 8))  # 1x1 kernels, no bias
  assert (stylegan.param_count(generator, resnet)[1] - stylegan.param_count(generator, orig)[1]
          == skips)
  logits = jax.eval_shape(lambda v: orig.apply({'params': v}, x, train=True), orig_params)
  assert logits.shape == (4,)
  config.discriminator.architecture = 'skip'
  _, bad = models.build(config, (32, 32, 1))
  with pytest.raises(ValueError, match=r"Unknown StyleGAN discriminator architecture 'skip'.*"
                                       r"'resnet', 'orig'"):
    bad.init(jax.random.key(0), x, train=False)


def test_demodulation_gives_unit_variance_outputs():
  keys = jax.random.split(jax.random.key(0), 3)
  x = jax.random.normal(keys[0], (4, 48, 48, 32))
  weight = jax.random.normal(keys[1], (3, 3, 32, 16))
  styles = jax.random.uniform(keys[2], (4, 32), minval=0.2, maxval=3.0)
  modulated_conv = jax.jit(stylegan.modulated_conv, static_argnames='demodulate')
  y = modulated_conv(x, weight, styles, demodulate=True)[:, 1:-1, 1:-1]  # no padding
  std = np.asarray(jnp.std(y, axis=(1, 2)))  # per sample and output channel
  np.testing.assert_allclose(std, 1.0, atol=0.08)
  # Without demodulation the scale follows the weights and styles (here far from 1).
  raw = modulated_conv(x, weight, styles, demodulate=False)[:, 1:-1, 1:-1]
  assert float(jnp.std(raw)) > 3.0


@pytest.fixture(scope='module')
def generator_and_params():
  generator, _ = tiny_models(8)
  params = jax.jit(lambda: generator.init(jax.random.key(0), jnp.zeros(
      (1, generator.latent_dim)), train=False))()['params']
  # Non-zero noise strengths, so noise modes make a difference.
  params = jax.tree_util.tree_map_with_path(
      lambda path, p: p + 0.5 if 'noise_strength' in jax.tree_util.keystr(path) else p, params)
  return generator, params


def test_truncation_psi0_gives_the_average_image_and_psi1_is_identity(generator_and_params):
  generator, params = generator_and_params
  z = jax.random.normal(jax.random.key(1), (3, generator.latent_dim))
  w_avg = jax.random.normal(jax.random.key(2), (generator.w_dim,))
  apply = jitted_apply(generator)
  run = lambda **kw: apply({'params': params}, z, train=True, noise_mode='const', **kw)
  average = apply({'params': params}, jnp.broadcast_to(w_avg, (1, stylegan.num_ws(8),
                                                               generator.w_dim)),
                  method='synthesis', noise_mode='const')
  at_zero = run(w_avg=w_avg, psi=0.0)
  np.testing.assert_allclose(at_zero, jnp.broadcast_to(average, at_zero.shape), atol=1e-5)
  # Equal up to float rounding: w_avg + 1 * (w - w_avg) is not always w bit for bit.
  np.testing.assert_allclose(run(w_avg=w_avg, psi=1.0), run(), rtol=1e-5, atol=1e-5)
  assert float(jnp.max(jnp.abs(run() - at_zero))) > 1e-2  # truncation does something


def test_tanh_output_is_tanh_of_the_linear_output(generator_and_params):
  generator, params = generator_and_params  # the test preset: output_activation='tanh'
  assert generator.output_activation == 'tanh'
  linear = generator.clone(output_activation='linear')
  z = 3.0 * jax.random.normal(jax.random.key(3), (4, generator.latent_dim))
  run = lambda g: jitted_apply(g)({'params': params}, z, train=True, noise_mode='const')
  raw = run(linear)
  assert float(jnp.max(jnp.abs(raw))) > 1.0  # the comparison covers saturated pixels too
  np.testing.assert_allclose(run(generator), jnp.tanh(raw), rtol=1e-5, atol=1e-6)
  valid = r"activation 'cubic'; valid activations: .*'linear'.*'tanh'"
  with pytest.raises(ValueError, match=valid):
    generator.clone(output_activation='cubic').init(
        jax.random.key(0), jnp.zeros((1, generator.latent_dim)), train=False)


def test_experiment_output_is_linear_for_the_paper_presets_only():
  for arg, expected in (('res=32', 'tanh'), ('preset=cifar', 'tanh'), ('preset=test', 'tanh'),
                        ('preset=paper256', 'linear'), ('preset=paper1024', 'linear')):
    assert experiment_config(arg).generator.output_activation == expected, arg


def test_mixing_takes_w2_exactly_from_the_crossover_layer_on(generator_and_params):
  ws1 = jnp.arange(3 * 6 * 2, dtype=jnp.float32).reshape(3, 6, 2)
  ws2 = -ws1 - 1
  mixed = stylegan.mix_styles(ws1, ws2, jnp.array([1, 4, 6]))
  for n, cutoff in enumerate((1, 4, 6)):
    np.testing.assert_array_equal(mixed[n, :cutoff], ws1[n, :cutoff])
    np.testing.assert_array_equal(mixed[n, cutoff:], ws2[n, cutoff:])
  # Through the generator: layer 1 onwards from z2 equals synthesising the spliced ws.
  generator, params = generator_and_params
  z1, z2 = jax.random.normal(jax.random.key(3), (2, 2, generator.latent_dim))
  jitted = jitted_apply(generator)
  out = jitted({'params': params}, z1, train=True, noise_mode='const', mix_z=z2, mix_cutoff=1)
  apply = lambda z, **kw: jitted({'params': params}, z, **kw)
  w1, w2 = apply(z1, method='mapping'), apply(z2, method='mapping')
  spliced = jnp.concatenate([w1[:, :1], w2[:, 1:]], axis=1)
  np.testing.assert_allclose(out, apply(spliced, method='synthesis', noise_mode='const'),
                             atol=1e-6)


@pytest.mark.parametrize('lr_mul', [1.0, 0.01])
def test_lr_multiplier_scales_the_effective_learning_rate(lr_mul):
  """One Adam step moves each stored weight by lr (sign of its gradient), so the weight the layer
  uses moves by lr * lr_mul / sqrt(fan_in) and the bias by lr * lr_mul."""
  layer = stylegan.EqualDense(3, lr_mul=lr_mul)
  x = jnp.array([[1.0, -2.0, 0.5, 3.0]])
  params = layer.init(jax.random.key(0), x)['params']
  loss = lambda p: jnp.sum(layer.apply({'params': p}, x) * jnp.array([1.0, -1.0, 2.0]))
  lr = 0.1
  tx = optax.adam(lr)
  updates, _ = tx.update(jax.jit(jax.grad(loss))(params), tx.init(params), params)
  new = optax.apply_updates(params, updates)
  effective_kernel = lambda p: p['kernel'] * lr_mul / 2.0  # sqrt(fan_in) = 2
  np.testing.assert_allclose(jnp.abs(effective_kernel(new) - effective_kernel(params)),
                             lr * lr_mul / 2.0, rtol=1e-4)
  np.testing.assert_allclose(jnp.abs(new['bias'] - params['bias']) * lr_mul, lr * lr_mul,
                             rtol=1e-4)
  # Initialisation is the same function for every lr_mul: effective weights ~ N(0, 1/fan_in).
  assert 0.2 < float(jnp.std(effective_kernel(params))) * 2.0 < 3.0


def test_lazy_regularisation_corrects_adam_lr_and_betas():
  cfg = {'name': 'adam', 'learning_rate': 0.01, 'b1': 0.5, 'b2': 0.99, 'eps': 1e-8,
         'lazy_interval': 4}
  tx = optimizers.make_optimizer(ml_collections.ConfigDict(cfg))
  c = 4 / 5
  reference = optax.adam(0.01 * c, b1=0.5 ** c, b2=0.99 ** c, eps=1e-8)
  params = jnp.array([1.0, -2.0])
  states = tx.init(params), reference.init(params)
  for grad in ([0.3, -1.0], [2.0, 0.5], [-1.0, 1.0]):
    grad = jnp.array(grad)
    (u1, s1), (u2, s2) = tx.update(grad, states[0]), reference.update(grad, states[1])
    states = s1, s2
    np.testing.assert_allclose(u1, u2, rtol=1e-6)


def test_path_length_penalty_on_a_linear_map():
  """g(w) = reshape(w @ A): J^T y = y A^T per w, so the lengths are known in closed form."""
  a = jax.random.normal(jax.random.key(0), (3, 8))
  synth = lambda ws, rng: jnp.einsum('nkw,wp->np', ws, a).reshape(-1, 2, 2, 2)
  ws = jnp.ones((5, 2, 3))
  rng = jax.random.key(1)
  penalty, new_mean = jax.jit(lambda ws, mean, rng: objectives.path_length_penalty(
      synth, ws, mean, rng, decay=0.5))(ws, jnp.float32(2.0), rng)
  y = jax.random.normal(jax.random.split(rng)[1], (5, 2, 2, 2)) / 2.0
  lengths = np.linalg.norm(np.asarray(y).reshape(5, 8) @ np.asarray(a).T, axis=1)
  expected_mean = 2.0 + 0.5 * (lengths.mean() - 2.0)
  np.testing.assert_allclose(new_mean, expected_mean, rtol=1e-5)
  np.testing.assert_allclose(penalty, np.mean((lengths - expected_mean) ** 2), rtol=1e-5)


def test_lazy_path_length_is_scaled_by_its_interval():
  """On a regularising update G's loss is the plain loss + pl_weight * k * the path-length
  penalty, the penalty computed here from the same ws and rngs (Karras et al. 2020, lazy
  regularisation)."""
  pl_weight, k = 0.7, 4
  generator, discriminator = tiny_models(8)
  game = games.StyleGAN(generator, discriminator, penalty='none', pl_weight=pl_weight,
                        g_penalty_every=k, style_mixing_prob=0.0)
  x = jax.random.uniform(jax.random.key(0), (4, 8, 8, 1), minval=-1, maxval=1)
  g_vars, d_vars, extras = game.init(jax.random.key(1), x)
  extras = {**extras, 'pl_mean': jnp.float32(0.5)}
  g_params = g_vars['params']
  rng = jax.random.key(2)
  loss = jax.jit(lambda regularize: game.g_loss(g_params, {}, d_vars['params'], {}, extras,
                                                {'x': x}, rng, regularize)[0])
  _, _, pl_rng = jax.random.split(rng, 3)

  @jax.jit  # one compile instead of op-by-op dispatch of the whole synthesis network
  def by_hand():
    ws = game.mixed_ws(g_params, pl_rng, 4 // game.pl_batch_shrink)
    return objectives.path_length_penalty(
        lambda w, r: game.synthesis(g_params, w, r), ws, extras['pl_mean'],
        jax.random.fold_in(pl_rng, 1), decay=game.pl_decay)[0]

  penalty = by_hand()
  assert float(penalty) > 1e-6
  np.testing.assert_allclose(float(loss(jnp.asarray(True))) - float(loss(jnp.asarray(False))),
                             pl_weight * k * float(penalty), rtol=1e-3)


def test_one_train_step_with_all_regularisers():
  """R1, path length, style mixing, w_avg and EMA all in the shared pure train step."""
  config = experiment_config('preset=test,res=8,batch=8')
  generator, discriminator = models.build(config, (8, 8, 1))
  game = games.build(config, generator, discriminator, source=None, constrain=lambda x: x)
  assert isinstance(game, games.StyleGAN) and game.style_mixing_prob == 0.9
  tx_g = optimizers.make_optimizer(config.optimizer_g)
  tx_d = optimizers.make_optimizer(config.optimizer_d)
  x = jax.random.uniform(jax.random.key(0), (8, 8, 8, 1), minval=-1, maxval=1)
  state = train_state.create(*game.init(jax.random.key(1), x), tx_g, tx_d, use_ema=True)
  # Update index 0 is a regularisation update for both players (0 % k == 0).
  step = jax.jit(steps.make_train_step(game, tx_g, tx_d, d_steps=1,
                                       penalty_every=config.penalty_every,
                                       g_penalty_every=config.g_penalty_every,
                                       ema_decay=config.ema_decay))
  new, metrics = step(state, {'x': x[None]}, jax.random.key(2))
  # Same avals in and out (dtype and weak type), or every later step would compile again.
  avals = lambda tree: [(a.shape, a.dtype, a.weak_type) for a in jax.tree.leaves(tree)]
  assert avals(new) == avals(state)
  metrics = jax.device_get(metrics)
  for name in ('loss/d', 'loss/g', 'loss/d_penalty', 'loss/g_path_length', 'g/pl_mean'):
    assert np.isfinite(metrics[name]), name
  assert metrics['loss/d_penalty'] > 0 and metrics['g/pl_mean'] > 0
  # pl_mean moved from 0 by decay 0.01 towards the batch's mean length; w_avg by 0.005.
  assert float(new.extras['pl_mean']) == pytest.approx(float(metrics['g/pl_mean']))
  assert 0 < float(jnp.linalg.norm(new.extras['w_avg'])) < 0.05 * np.sqrt(generator.w_dim)
  changed = lambda a, b: any(float(jnp.max(jnp.abs(u - v))) > 0
                             for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
  assert changed(new.g.params, state.g.params) and changed(new.d.params, state.d.params)
  assert changed(new.ema_params, state.ema_params)
  # The EMA moved (1 - decay) of the way to the new parameters.
  leaf = lambda t: jax.tree.leaves(t)[0]
  np.testing.assert_allclose(
      leaf(new.ema_params),
      config.ema_decay * leaf(state.ema_params) + (1 - config.ema_decay) * leaf(new.g.params),
      atol=1e-6)


def test_projection_recovers_an_image_the_generator_made():
  """Projection (GAN inversion) finds w and noise reproducing G's own image at >= 25 dB PSNR."""
  from gan_research import projection as project
  from gan_research import trained_stylegan
  config = experiment_config('preset=test,res=16')
  generator, discriminator = models.build(config, (16, 16, 1))
  game = games.build(config, generator, discriminator, source=None, constrain=lambda x: x)
  x = jnp.zeros((2, 16, 16, 1))
  g_vars, _, _ = game.init(jax.random.key(0), x)
  params = g_vars['params']
  w_avg = jnp.mean(game.mapping(params, jax.random.normal(jax.random.key(1), (512, 16)))[:, 0], 0)
  model = trained_stylegan.TrainedGenerator(game, params, w_avg, step=0)
  target = model.synthesis(model.mapping(model.z(seed=7)), noise_mode='random',
                           rng=jax.random.key(7))[0]
  start = model.synthesis(model.mapping(model.z(seed=8)), noise_mode='random',
                          rng=jax.random.key(8))[0]
  assert project.psnr(start, target) < 20  # another seed's image is far from the target
  w, noise, image, psnr = project.project(model, target, num_steps=300, w_avg_samples=500)
  assert psnr >= 25, psnr
  assert psnr == pytest.approx(project.psnr(image, target))
  assert w.shape == (16,) and len(noise) == len(generator.apply({'params': params},
                                                                method='noise_shapes'))
