"""Shapes, the Radford layer layout, pinned parameter counts and the shared contract."""
import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_research import config_lib, models
from gan_research.models import cyclegan, dcgan, layers, mlp, pix2pix
from gan_research.ops import conv, conv_transpose


def _count(variables):
  return sum(int(np.prod(p.shape)) for p in jax.tree.leaves(variables['params']))


def _init(module, x):
  return module.init(jax.random.key(0), x, train=False)


_init = jax.jit(_init, static_argnums=0)  # one compiled init instead of op-by-op dispatch


@pytest.mark.parametrize('res,channels,g_params,d_params', [
    # Pinned counts (batch statistics excluded). 64x64 matches pytorch/examples' DCGAN
    # (3,576,704 G and 2,765,568 D weights) plus our output bias (3) and D's first/last biases
    # (64 + 1).
    (28, 1, 759_681, 138_689),
    (32, 3, 1_068_931, 663_361),
    (64, 3, 3_576_707, 2_765_633),
])
def test_dcgan_shapes_and_parameter_counts(res, channels, g_params, d_params):
  # eval_shape: shapes and counts without running the full-width convolutions.
  g, d = dcgan.Generator(output_shape=(res, res, channels)), dcgan.Discriminator()
  z = jnp.zeros((3, 100))
  g_vars = jax.eval_shape(_init, g, z)
  images = jax.eval_shape(lambda v, z: g.apply(v, z, train=False), g_vars, z)
  assert images.shape == (3, res, res, channels)
  d_vars = jax.eval_shape(_init, d, images)
  logits = jax.eval_shape(lambda v, x: d.apply(v, x, train=False), d_vars, images)
  assert logits.shape == (3,)
  assert (_count(g_vars), _count(d_vars)) == (g_params, d_params)


def test_dcgan_layer_layout_follows_radford():
  g = dcgan.Generator(output_shape=(64, 64, 3), base_width=8)
  g_vars = _init(g, jnp.zeros((2, 100)))  # small widths: this one runs for real
  g_params = flax.traverse_util.flatten_dict(g_vars['params'], sep='/')
  # BatchNorm after the projection and every transposed conv but the output one.
  assert sorted(k.split('/')[0] for k in g_vars['batch_stats']) == [
      'BatchNorm_0', 'BatchNorm_1', 'BatchNorm_2', 'BatchNorm_3']
  widths = [g_params[f'ConvTranspose_{i}/kernel'].shape[-1] for i in range(4)]
  assert widths == [32, 16, 8, 3]  # halving towards the output, then the image channels
  d = dcgan.Discriminator(base_width=8)
  d_vars = _init(d, jnp.zeros((2, 64, 64, 3)))
  d_params = flax.traverse_util.flatten_dict(d_vars['params'], sep='/')
  assert [d_params[f'Conv_{i}/kernel'].shape[-1] for i in range(5)] == [8, 16, 32, 64, 1]
  # No BatchNorm on D's first layer: 3 BatchNorms for 4 strided convolutions.
  assert len(d_vars['batch_stats']) == 3
  out = g.apply(g_vars, jax.random.normal(jax.random.key(1), (2, 100)) * 100, train=False)
  assert float(jnp.max(jnp.abs(out))) <= 1.0  # tanh output


def test_dcgan_generator_trains_batchnorm_statistics():
  g = dcgan.Generator(output_shape=(28, 28, 1), base_width=8)
  z = jax.random.normal(jax.random.key(0), (4, 100))
  g_vars = _init(g, z)
  _, new_state = g.apply(g_vars, z, train=True, mutable=['batch_stats'])
  before = jax.tree.leaves(g_vars['batch_stats'])
  after = jax.tree.leaves(new_state['batch_stats'])
  assert any(not np.allclose(a, b) for a, b in zip(before, after))


@pytest.mark.parametrize('res', [28, 64])
def test_dcgan_custom_vjp_transposed_convolution_computes_the_plain_model(res):
  # The same parameters give the same images and the same gradients with either implementation.
  fast = dcgan.Generator(output_shape=(res, res, 3), base_width=4, conv_impl='custom_vjp')
  plain = dcgan.Generator(output_shape=(res, res, 3), base_width=4, conv_impl='lax')
  z = jax.random.normal(jax.random.key(0), (3, 100))
  variables = _init(fast, z)
  assert jax.tree.structure(variables) == jax.tree.structure(_init(plain, z))

  def loss(params, module):
    images, _ = module.apply({**variables, 'params': params}, z, train=True,
                             mutable=['batch_stats'])
    return jnp.sum(images * jnp.cos(images)), images

  (l_fast, x_fast), g_fast = jax.jit(jax.value_and_grad(loss, has_aux=True), static_argnums=1)(
      variables['params'], fast)
  (l_plain, x_plain), g_plain = jax.jit(jax.value_and_grad(loss, has_aux=True), static_argnums=1)(
      variables['params'], plain)
  np.testing.assert_allclose(x_fast, x_plain, atol=2e-5)
  for a, b in zip(jax.tree.leaves(g_fast), jax.tree.leaves(g_plain)):
    np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4 * float(jnp.max(jnp.abs(b))))


@pytest.mark.parametrize('backward', conv.BACKWARD_METHODS)
def test_dcgan_custom_vjp_discriminator_computes_the_plain_model(backward):
  fast = dcgan.Discriminator(base_width=4, conv_impl='custom_vjp', conv_backward=backward)
  plain = dcgan.Discriminator(base_width=4, conv_impl='lax')
  x = jax.random.normal(jax.random.key(0), (3, 32, 32, 3))
  variables = _init(fast, x)

  def loss(params, x, module):
    logits, _ = module.apply({**variables, 'params': params}, x, train=True,
                             mutable=['batch_stats'])
    return jnp.sum(jnp.sin(logits))

  grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)), static_argnums=2)
  (l_fast, g_fast), (l_plain, g_plain) = grad(variables['params'], x, fast), grad(
      variables['params'], x, plain)
  np.testing.assert_allclose(l_fast, l_plain, rtol=1e-5)
  for a, b in zip(jax.tree.leaves(g_fast), jax.tree.leaves(g_plain)):
    np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4 * float(jnp.max(jnp.abs(b))))


def test_dcgan_spectral_discriminator_divides_each_weight_by_its_top_singular_value():
  d = dcgan.Discriminator(base_width=4, norm='spectral')
  x = jax.random.normal(jax.random.key(0), (3, 32, 32, 1))
  variables = _init(d, x)
  assert not any('BatchNorm' in name for name in variables['params'])
  apply = jax.jit(lambda v: d.apply(v, x, train=True, mutable=['batch_stats']))
  for _ in range(50):  # one power iteration per training call
    _, updates = apply(variables)
    variables = {**variables, **updates}
  stats = variables['batch_stats']
  for i, layer in enumerate(['Conv_0', 'Conv_1', 'Conv_2', 'Conv_3']):
    kernel = np.asarray(variables['params'][layer]['kernel'])
    top = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
    np.testing.assert_allclose(stats[f'SpectralNorm_{i}'][f'{layer}/kernel/sigma'], top,
                               rtol=1e-3)
  # The logit is computed with W / sigma(W) in every layer: the same network with the kernels
  # divided by numpy's singular values and no normalisation gives it.
  plain = dcgan.Discriminator(base_width=4, norm='none')
  params = {layer: dict(p) for layer, p in variables['params'].items()}
  for layer in params:
    kernel = np.asarray(params[layer]['kernel'])
    params[layer]['kernel'] = kernel / np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]),
                                                     compute_uv=False)[0]
  np.testing.assert_allclose(d.apply(variables, x, train=False),
                             plain.apply({'params': params}, x, train=False), rtol=2e-3,
                             atol=1e-5)


def test_dcgan_unknown_discriminator_norm_lists_valid_ones():
  with pytest.raises(ValueError, match=r"norm 'layer'; valid: \['batch', 'spectral', 'none'\]"):
    _init(dcgan.Discriminator(norm='layer'), jnp.zeros((1, 32, 32, 1)))


@pytest.mark.parametrize('make,x', [
    (lambda: mlp.Generator(output_shape=(2,), norm='layer'), jnp.zeros((1, 2))),
    (lambda: dcgan.Discriminator(base_width=4, norm='layer'), jnp.zeros((1, 32, 32, 1))),
    (lambda: cyclegan.Generator((16, 16, 1), base_width=2, num_res_blocks=1, norm='layer'),
     jnp.zeros((1, 16, 16, 1))),
    (lambda: cyclegan.Discriminator(base_width=2, norm='layer'), jnp.zeros((1, 32, 32, 1))),
    (lambda: pix2pix.Generator((16, 16, 1), base_width=2, norm='layer'),
     jnp.zeros((1, 16, 16, 1))),
], ids=['mlp_g', 'dcgan_d', 'cyclegan_g', 'patchgan', 'unet'])
def test_every_model_names_its_valid_norms_the_same_way(make, x):
  # One field, one message: "Unknown norm 'layer'; valid: [...]" whatever the model.
  with pytest.raises(ValueError, match=r"^Unknown norm 'layer'; valid: \[.*'batch'.*'none'\]\."):
    jax.eval_shape(lambda: make().init(jax.random.key(0), x, train=False))


@pytest.mark.parametrize('backend,expected', [
    ('cpu', 'custom_vjp'), ('gpu', 'lax'), ('tpu', 'lax'), ('METAL', 'lax')])
def test_auto_conv_impl_follows_the_backend(backend, expected, monkeypatch):
  assert layers.resolve_conv_impl('auto', backend) == expected
  monkeypatch.setattr(jax, 'default_backend', lambda: backend)
  assert layers.resolve_conv_impl('auto') == expected  # the default backend when none is given
  for explicit in ('custom_vjp', 'lax'):  # an explicit choice holds on every backend
    assert layers.resolve_conv_impl(explicit, backend) == explicit
  with pytest.raises(ValueError, match=r"conv_impl 'fast'; valid: \['auto', 'custom_vjp', 'lax'\]"):
    layers.resolve_conv_impl('fast', backend)


# Every model with a convolution choice, its default conv_impl ('auto') and a small input.
_CONV_MODELS = {
    'dcgan_g': (lambda: dcgan.Generator(output_shape=(16, 16, 1), base_width=2),
                jax.random.normal(jax.random.key(1), (2, 100))),
    'dcgan_d': (lambda: dcgan.Discriminator(base_width=2), jnp.zeros((2, 16, 16, 1))),
    'cyclegan_g': (lambda: cyclegan.Generator((16, 16, 1), base_width=2, num_res_blocks=1),
                   jnp.zeros((2, 16, 16, 1))),
    'patchgan': (lambda: cyclegan.Discriminator(base_width=2, num_layers=2),
                 jnp.zeros((2, 32, 32, 1))),
    'unet': (lambda: pix2pix.Generator((16, 16, 1), base_width=2, dropout_rate=0.0),
             jnp.zeros((2, 16, 16, 1))),
}


def _built_layers(module, x):
  """The classes of the layers `module` builds (traced, not run)."""
  seen = set()

  def record(next_fun, args, kwargs, context):
    seen.add(type(context.module))
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(record):
    jax.eval_shape(lambda: module.init(jax.random.key(0), x, train=False))
  return seen


@pytest.mark.parametrize('name', sorted(_CONV_MODELS))
def test_default_conv_impl_builds_custom_vjp_layers_on_cpu_only(name, monkeypatch):
  make, x = _CONV_MODELS[name]
  assert make().conv_impl == 'auto'
  custom = {conv.Conv, conv_transpose.ConvTranspose}
  for backend in ('cpu', 'gpu', 'tpu'):
    monkeypatch.setattr(jax, 'default_backend', lambda: backend)
    built = _built_layers(make(), x)
    if backend == 'cpu':
      assert built & custom, built
    else:
      assert not built & custom and built & {nn.Conv, nn.ConvTranspose}, built


@pytest.mark.parametrize('name', sorted(_CONV_MODELS))
def test_auto_conv_impl_keeps_the_parameters_and_the_outputs(name, monkeypatch):
  # A checkpoint written on one backend loads and computes the same on another.
  make, x = _CONV_MODELS[name]
  x = x + jax.random.normal(jax.random.key(2), x.shape)
  results = {}
  for backend in ('cpu', 'gpu'):
    monkeypatch.setattr(jax, 'default_backend', lambda: backend)
    module = make()
    variables = module.init(jax.random.key(0), x, train=False)
    results[backend] = variables, module.apply(variables, x, train=False)
  (cpu_vars, cpu_out), (gpu_vars, gpu_out) = results['cpu'], results['gpu']
  assert jax.tree.structure(cpu_vars) == jax.tree.structure(gpu_vars)
  jax.tree.map(np.testing.assert_array_equal, cpu_vars, gpu_vars)
  np.testing.assert_allclose(cpu_out, gpu_out, rtol=1e-4, atol=1e-5)


def test_dcgan_rejects_unsupported_resolution():
  with pytest.raises(ValueError, match='28, 32, 64'):
    _init(dcgan.Generator(output_shape=(30, 30, 1)), jnp.zeros((1, 100)))


@pytest.mark.parametrize('activation', sorted(layers.ACTIVATIONS))
def test_mlp_generator_activations_and_depth(activation):
  g = mlp.Generator(output_shape=(2,), latent_dim=3, hidden_sizes=(16, 8, 4, 4),
                    activation=activation)
  g_vars = _init(g, jnp.zeros((5, 3)))
  assert g.apply(g_vars, jnp.ones((5, 3)), train=False).shape == (5, 2)
  assert len(g_vars['params']) == 5  # 4 hidden layers + output
  assert _count(g_vars) == (3 * 16 + 16) + (16 * 8 + 8) + (8 * 4 + 4) + (4 * 4 + 4) + (4 * 2 + 2)


def test_mlp_activation_is_the_named_one():
  g = mlp.Generator(output_shape=(1,), latent_dim=1, hidden_sizes=(1,), activation='relu6')
  params = {'params': {'Dense_0': {'kernel': jnp.array([[10.0]]), 'bias': jnp.zeros(1)},
                       'Dense_1': {'kernel': jnp.array([[1.0]]), 'bias': jnp.zeros(1)}}}
  out = g.apply(params, jnp.array([[1.0], [-1.0]]), train=False)
  np.testing.assert_allclose(out[:, 0], [6.0, 0.0])  # relu6(10) = 6, relu6(-10) = 0


def test_unknown_activation_lists_valid_ones():
  with pytest.raises(ValueError, match='valid activations: .*relu6.*softplus'):
    _init(mlp.Generator(output_shape=(1,), activation='swish'), jnp.zeros((1, 2)))


def test_maxout_discriminator_matches_formula():
  d = mlp.Discriminator(hidden_sizes=(3, 2), maxout_pieces=4)
  x = jax.random.normal(jax.random.key(0), (5, 6))
  variables = _init(d, x)
  p = jax.tree.map(np.asarray, variables['params'])
  assert p['Dense_0']['kernel'].shape == (6, 12) and p['Dense_1']['kernel'].shape == (3, 8)

  def maxout_np(h, pieces):  # unit u is the max of linear outputs u * pieces ... u * pieces + 3
    return np.stack([h[:, u * pieces:(u + 1) * pieces].max(1)
                     for u in range(h.shape[1] // pieces)], axis=1)

  h = maxout_np(np.asarray(x) @ p['Dense_0']['kernel'] + p['Dense_0']['bias'], 4)
  h = maxout_np(h @ p['Dense_1']['kernel'] + p['Dense_1']['bias'], 4)
  expected = (h @ p['Dense_2']['kernel'] + p['Dense_2']['bias'])[:, 0]
  np.testing.assert_allclose(d.apply(variables, x, train=False), expected, rtol=1e-5, atol=1e-6)
  with pytest.raises(ValueError, match='do not split into 4 pieces'):
    mlp.maxout(jnp.zeros((2, 6)), 4)


def test_mlp_init_std_and_batchnorm_generator_without_hidden_biases():
  g = mlp.Generator(output_shape=(2,), latent_dim=2, hidden_sizes=(400, 400), norm='batch',
                    init_std=0.02)
  g_vars = _init(g, jnp.zeros((4, 2)))
  params = g_vars['params']
  assert 'bias' not in params['Dense_0'] and 'bias' not in params['Dense_1']  # BatchNorm's beta
  assert 'bias' in params['Dense_2']
  std = float(np.std(np.asarray(params['Dense_1']['kernel'])))
  assert abs(std - 0.02) < 0.001  # 160,000 draws of N(0, 0.02^2)
  default = _init(mlp.Generator(output_shape=(2,), latent_dim=2, hidden_sizes=(400, 400)),
                  jnp.zeros((4, 2)))  # LeCun normal: std 1 / sqrt(400)
  assert abs(float(np.std(np.asarray(default['params']['Dense_1']['kernel']))) - 0.05) < 0.003


def test_minibatch_discrimination_matches_formula():
  layer = layers.MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
  f = jax.random.normal(jax.random.key(0), (4, 5))
  variables = layer.init(jax.random.key(1), f)
  out = np.asarray(layer.apply(variables, f))
  t = np.asarray(variables['params']['T'])
  m = (np.asarray(f) @ t).reshape(4, 3, 2)
  expected = np.zeros((4, 3))
  for i in range(4):
    for j in range(4):
      expected[i] += np.exp(-np.abs(m[i] - m[j]).sum(-1))
  np.testing.assert_allclose(out[:, :5], f, rtol=1e-6)
  np.testing.assert_allclose(out[:, 5:], expected, rtol=1e-5)


def test_minibatch_discrimination_makes_d_see_the_batch():
  d = mlp.Discriminator(hidden_sizes=(8,), minibatch_kernels=4)
  x = jax.random.normal(jax.random.key(0), (6, 2))
  variables = _init(d, x)
  alone = d.apply(variables, x[:3], train=False)
  together = d.apply(variables, x, train=False)
  assert not np.allclose(alone, together[:3])  # a sample's logit depends on its batch
  plain = mlp.Discriminator(hidden_sizes=(8,))
  pv = _init(plain, x)
  np.testing.assert_allclose(plain.apply(pv, x[:3], train=False),
                             plain.apply(pv, x, train=False)[:3], rtol=1e-6)


def test_registry_builds_every_model_with_the_same_contract():
  for name, gen_kw, shape in [('mlp', {}, (2,)), ('dcgan', {'base_width': 4}, (32, 32, 1))]:
    config = _config(model=name, generator=gen_kw, discriminator=dict(gen_kw))
    g, d = models.build(config, shape)
    z = models.sample_latent(jax.random.key(0), (2, g.latent_dim), g.latent_distribution)
    x = g.apply(g.init(jax.random.key(1), z, train=False), z, train=False)
    assert x.shape == (2,) + shape
    assert d.apply(d.init(jax.random.key(2), x, train=False), x, train=False).shape == (2,)


def test_uniform_latents_lie_in_the_cube():
  z = models.sample_latent(jax.random.key(0), (1000, 4), 'uniform')
  assert float(z.min()) >= -1 and float(z.max()) <= 1 and float(z.min()) < -0.9
  with pytest.raises(ValueError, match='normal'):
    models.sample_latent(jax.random.key(0), (2, 2), 'cauchy')


def test_unknown_model_and_bad_kwargs():
  with pytest.raises(ValueError, match="valid models: \\[.*'dcgan', 'dcgan_tf', 'mlp'"):
    models.build(_config(model='biggan', generator={}, discriminator={}), (2,))
  with pytest.raises(ValueError, match='do not fit model'):
    models.build(_config(model='mlp', generator={'widths': 3}, discriminator={}), (2,))


def _config(**fields):
  config = config_lib.base_config()
  config.update(fields)
  return config
