"""conv_transpose equals lax.conv_transpose in value and in both gradients; the module is a drop-in
for flax.linen.ConvTranspose (same parameters, same outputs)."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from gan_research.ops import conv_transpose as ct

_DN = ('NHWC', 'HWIO', 'NHWC')


def _close(actual, expected, tol=1e-4):
  """Max error relative to the scale of `expected` (float32 sums of up to ~10^3 terms)."""
  assert actual.shape == expected.shape
  scale = float(jnp.max(jnp.abs(expected))) + 1e-6
  err = float(jnp.max(jnp.abs(actual - expected))) / scale
  assert err < tol, f'relative error {err:.2e}'


def _value_and_grads(f, x, w, g):
  y, vjp = jax.vjp(f, x, w)
  return (y,) + vjp(g)


# (batch, h, w, in, out, kernel, stride, padding, forward, backward)
CASES = [
    (2, 4, 4, 8, 5, 4, 2, 'SAME', ct.DEFAULT_FORWARD, ct.DEFAULT_BACKWARD),  # DCGAN layer
    (3, 5, 7, 3, 4, 4, 2, 'SAME', 'subpixel_fused', 'im2col'),  # odd sizes
    (1, 6, 3, 4, 2, 4, 2, 'VALID', 'subpixel', 'conv'),
    (2, 5, 5, 3, 3, 3, 2, 'SAME', 'subpixel', 'im2col'),  # k not a multiple of s
    (2, 7, 4, 2, 3, 5, 2, 'SAME', 'lhs_dilated', 'im2col'),
    (2, 5, 6, 3, 4, 3, 1, 'SAME', 'subpixel', 'im2col'),  # stride 1
    (64, 1, 1, 6, 7, 4, 1, 'VALID', 'subpixel', 'im2col'),  # z -> 4x4 (DCGAN's first layer)
    (2, 4, 5, 2, 3, 4, 2, ((2, 1), (0, 3)), 'subpixel_fused', 'im2col'),  # explicit padding
]


@pytest.mark.parametrize('case', CASES, ids=lambda c: '-'.join(map(str, c)))
def test_value_and_gradients_match_lax(case):
  batch, h, w_, cin, cout, k, s, padding, forward, backward = case
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(batch, h, w_, cin)), jnp.float32)
  w = jnp.asarray(rng.normal(size=(k, k, cin, cout)), jnp.float32)
  ref = lambda x, w: lax.conv_transpose(x, w, (s, s), padding, dimension_numbers=_DN)
  ours = lambda x, w: ct.conv_transpose(x, w, (s, s), padding, forward=forward, backward=backward)
  g = jnp.asarray(rng.normal(size=jax.eval_shape(ref, x, w).shape), jnp.float32)
  both = jax.jit(lambda *a: (_value_and_grads(ours, *a), _value_and_grads(ref, *a)))
  for a, e in zip(*both(x, w, g)):
    _close(a, e)


@pytest.mark.parametrize('kwargs', [
    dict(features=5, kernel_size=(4, 4), strides=(2, 2), padding='SAME', use_bias=False),
    dict(features=3, kernel_size=(3, 3), strides=2, padding='VALID'),
    dict(features=4, kernel_size=(4, 4), strides=None, padding=1),
])
def test_module_is_a_drop_in_for_flax(kwargs):
  x = jnp.asarray(np.random.default_rng(2).normal(size=(2, 5, 6, 3)), jnp.float32)
  ours, theirs = ct.ConvTranspose(**kwargs), nn.ConvTranspose(**kwargs)
  params, flax_params = jax.jit(lambda x: (ours.init(jax.random.key(0), x),
                                           theirs.init(jax.random.key(0), x)))(x)
  shapes = lambda p: jax.tree.map(jnp.shape, p)
  assert shapes(params) == shapes(flax_params)
  # Same initializers and names: the same draw.
  jax.tree.map(np.testing.assert_array_equal, params, flax_params)
  params = jax.tree.map(lambda p: p + 0.1, params)  # a non-zero bias too
  # Batched, and (once) unbatched and multi-batch-dim inputs, as flax allows.
  inputs = (x, x[0], x[None]) if kwargs['features'] == 3 else (x,)
  outs = jax.jit(lambda p, xs: [(ours.apply(p, x), theirs.apply(p, x)) for x in xs])(params, inputs)
  for a, e in outs:
    _close(a, e)


def test_module_gradients_under_jit_match_flax():
  x = jnp.asarray(np.random.default_rng(3).normal(size=(2, 4, 4, 6)), jnp.float32)
  kwargs = dict(features=3, kernel_size=(4, 4), strides=(2, 2), padding='SAME')
  ours, theirs = ct.ConvTranspose(**kwargs), nn.ConvTranspose(**kwargs)
  params = ours.init(jax.random.key(0), x)
  loss = lambda module: jax.jit(jax.grad(lambda p, x: jnp.sum(jnp.sin(module.apply(p, x)))))
  jax.tree.map(_close, loss(ours)(params, x), loss(theirs)(params, x))


def test_second_order_reverse_mode_works_and_forward_mode_raises():
  rng = np.random.default_rng(4)
  x = jnp.asarray(rng.normal(size=(2, 3, 4, 3)), jnp.float32)
  w = jnp.asarray(rng.normal(size=(4, 4, 3, 2)), jnp.float32)

  def penalty(conv):
    # A gradient-penalty-like loss: grad of a grad, as in WGAN-GP / R1.
    inner = lambda x, w: jnp.sum(jnp.tanh(conv(x, w)))
    return jax.jit(jax.grad(lambda x, w: jnp.sum(jax.grad(inner)(x, w) ** 2), argnums=(0, 1)))

  ref = lambda x, w: lax.conv_transpose(x, w, (2, 2), 'SAME', dimension_numbers=_DN)
  jax.tree.map(_close, penalty(ct.conv_transpose)(x, w), penalty(ref)(x, w))
  with pytest.raises(TypeError, match='custom_vjp'):
    jax.jvp(lambda x: ct.conv_transpose(x, w), (x,), (x,))


@pytest.mark.parametrize('args,kwargs,match', [
    ((2,), dict(), 'kernel_size >= stride'),
    ((2, 'CIRCULAR'), dict(), 'padding must be'),
    ((2, 'SAME'), dict(forward='fft'), 'forward must be one of'),
    ((2, 'SAME'), dict(backward='autodiff'), 'backward must be one of'),
])
def test_unsupported_configurations_raise_clearly(args, kwargs, match):
  x, w = jnp.ones((1, 4, 4, 3)), jnp.ones((1, 1, 3, 2))  # kernel 1 < stride 2
  if 'kernel_size' not in match:
    w = jnp.ones((4, 4, 3, 2))
  with pytest.raises(ValueError, match=match):
    ct.conv_transpose(x, w, *args, **kwargs)


def test_shape_errors_are_clear():
  with pytest.raises(ValueError, match='NHWC'):
    ct.conv_transpose(jnp.ones((4, 4, 3)), jnp.ones((4, 4, 3, 2)))
  with pytest.raises(ValueError, match='in_features'):
    ct.conv_transpose(jnp.ones((1, 4, 4, 3)), jnp.ones((4, 4, 5, 2)))
  with pytest.raises(ValueError, match='2-d'):
    ct.conv_transpose(jnp.ones((1, 4, 4, 3)), jnp.ones((4, 4, 4, 3, 2)))
