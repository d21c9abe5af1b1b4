"""ops.conv.conv2d equals lax.conv_general_dilated in value and in both gradients."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from gan_research.ops import conv


@pytest.mark.parametrize('backward', conv.BACKWARD_METHODS)
@pytest.mark.parametrize('shape,kernel,strides,padding', [
    ((3, 28, 28, 1), (4, 4, 1, 8), (2, 2), ((1, 1), (1, 1))),
    ((2, 14, 14, 8), (4, 4, 8, 16), (2, 2), ((1, 1), (1, 1))),
    ((2, 7, 7, 16), (7, 7, 16, 1), (1, 1), ((0, 0), (0, 0))),
    ((2, 9, 11, 3), (3, 3, 3, 5), (2, 1), ((1, 0), (2, 1))),
    # Inputs the last window does not reach (10 + 1 - 4 is odd; 12 - 3 is not a multiple of 2).
    ((2, 10, 12, 3), (4, 3, 3, 4), (2, 2), ((1, 0), (0, 0))),
    ((1, 13, 8, 2), (5, 3, 2, 3), (3, 2), ((2, 1), (0, 1))),
    # Stride above the kernel size: 'conv' falls back to im2col.
    ((2, 9, 9, 2), (2, 2, 2, 3), (3, 3), ((0, 0), (0, 0))),
])
def test_conv2d_value_and_gradients_equal_lax(shape, kernel, strides, padding, backward):
  x = jax.random.normal(jax.random.key(0), shape)
  w = jax.random.normal(jax.random.key(1), kernel)
  plain = lambda x, w: lax.conv_general_dilated(x, w, strides, padding,
                                                dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
  fast = lambda x, w: conv.conv2d(x, w, strides, padding, backward)
  y, vjp = jax.vjp(fast, x, w)
  y_ref, vjp_ref = jax.vjp(plain, x, w)
  np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-4)
  g = jax.random.normal(jax.random.key(2), y.shape)
  for got, want in zip(jax.jit(vjp)(g), vjp_ref(g)):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(jnp.abs(want).max()))


@pytest.mark.parametrize('backward', conv.BACKWARD_METHODS)
def test_second_order_gradient_for_penalties(backward):
  # R1 / WGAN-GP differentiate an input gradient again: the custom VJP must support that.
  x = jax.random.normal(jax.random.key(0), (2, 8, 8, 3))
  w = jax.random.normal(jax.random.key(1), (4, 4, 3, 4))
  pad = ((1, 1), (1, 1))

  def penalty(w, fn):
    grad_x = jax.grad(lambda x: jnp.sum(fn(x, w) ** 2))(x)
    return jnp.sum(grad_x ** 2)

  fast = lambda x, w: conv.conv2d(x, w, (2, 2), pad, backward)
  plain = lambda x, w: lax.conv_general_dilated(x, w, (2, 2), pad,
                                                dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
  got, want = jax.grad(penalty)(w, fast), jax.grad(penalty)(w, plain)
  # atol on the gradient's scale: entries near 0 come from cancelling terms ~1e4, whose float32
  # rounding differs with the summation order (AVX-512 kernels: 55.043 against 55.036).
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * float(jnp.abs(want).max()))


def test_unknown_backward_lists_the_valid_ones():
  with pytest.raises(ValueError, match=r"'im2col', 'conv'"):
    conv.conv2d(jnp.zeros((1, 4, 4, 1)), jnp.zeros((2, 2, 1, 1)), (1, 1), ((0, 0), (0, 0)),
                'winograd')
