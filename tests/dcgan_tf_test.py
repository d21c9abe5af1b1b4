"""The DCGAN-tensorflow network of VEEGAN's and PacGAN's Stacked MNIST runs (models/dcgan_tf.py):
TF's transposed convolution as the adjoint of its 'SAME' convolution, the published map sizes and
parameter count."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_research.models import dcgan_tf


@pytest.mark.parametrize('out_size', [7, 14])
def test_transposed_conv_is_the_adjoint_of_tf_same_conv(out_size):
  # <T h, x> = <h, C x> for the stride-2 'SAME' convolution C (TensorFlow's padding: flax and lax
  # pad 'SAME' as TF does) and T its transpose; 7 is the odd size of the 28x28 network, whose
  # 'SAME' padding (2 on each side) differs from that of 14 (1 before, 2 after).
  rng = np.random.default_rng(out_size)
  in_size = -(-out_size // 2)
  kernel = rng.normal(size=(5, 5, 3, 4)).astype(np.float32)
  x = rng.normal(size=(2, out_size, out_size, 3)).astype(np.float32)
  h = rng.normal(size=(2, in_size, in_size, 4)).astype(np.float32)

  @jax.jit
  def both_sides(x, h, kernel):
    conv = jax.lax.conv_general_dilated(x, kernel, (2, 2), 'SAME',
                                        dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
    transposed = dcgan_tf._transposed(h, kernel, out_size)  # pylint: disable=protected-access
    assert transposed.shape == x.shape
    return jnp.vdot(transposed, x), jnp.vdot(h, conv)

  left, right = both_sides(x, h, kernel)
  np.testing.assert_allclose(left, right, rtol=1e-4)


def test_published_sizes_and_parameter_count():
  assert dcgan_tf.map_sizes(28) == [28, 14, 7, 4, 2]
  g = dcgan_tf.Generator(output_shape=(28, 28, 3))
  d = dcgan_tf.Discriminator()
  # Shapes only (eval_shape): the full-size networks are never run here.
  z = jax.ShapeDtypeStruct((2, 100), jnp.float32)
  g_vars = jax.eval_shape(lambda z: g.init(jax.random.key(0), z, train=False), z)
  x = jax.eval_shape(lambda v, z: g.apply(v, z, train=False), g_vars, z)
  assert x.shape == (2, 28, 28, 3)
  d_vars = jax.eval_shape(lambda x: d.init(jax.random.key(1), x, train=False), x)
  assert jax.eval_shape(lambda v, x: d.apply(v, x, train=False), d_vars, x).shape == (2,)
  count = lambda v: sum(p.size for p in jax.tree.leaves(v['params']))
  # By hand from the network in the module docstring (weights + biases + BN scale and offset):
  g_expected = (100 * 2048 + 2048 + 2 * 512 + 25 * 512 * 256 + 256 + 2 * 256
                + 25 * 256 * 128 + 128 + 2 * 128 + 25 * 128 * 64 + 64 + 2 * 64 + 25 * 64 * 3 + 3)
  d_expected = (25 * 3 * 64 + 64 + 25 * 64 * 128 + 128 + 2 * 128 + 25 * 128 * 256 + 256
                + 2 * 256 + 25 * 256 * 512 + 512 + 2 * 512 + 2 * 2 * 512 + 1)
  assert (count(g_vars), count(d_vars)) == (g_expected, d_expected)
  # A packed D (PacGAN) takes 3 * pack channels in its first layer only.
  packed = jax.eval_shape(lambda x: d.init(jax.random.key(1), x, train=False),
                          jax.ShapeDtypeStruct((2, 28, 28, 6), jnp.float32))
  assert count(packed) - count(d_vars) == 25 * 3 * 64
