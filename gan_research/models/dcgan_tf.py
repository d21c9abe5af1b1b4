"""The DCGAN of Taehoon Kim's DCGAN-tensorflow, as VEEGAN and PacGAN ran it on Stacked MNIST.

PacGAN's Stacked MNIST code (the authors' repository, stacked_MNIST_experiments/
VEEGAN_experiment/model.py) builds on that implementation; at 28x28x3 it is:
  G: z -> linear -> 2x2x(8w) -> BN, ReLU -> deconv 4x4x(4w) -> 7x7x(2w) -> 14x14x(w), each
     BN + ReLU -> deconv 28x28xC -> tanh
  D: conv 14x14x(w) -> lReLU -> conv 7x7x(2w) -> 4x4x(4w) -> 2x2x(8w), each BN + lReLU(0.2)
     -> linear -> one logit
with w = 64, 5x5 kernels, stride 2 and TensorFlow's 'SAME' padding, so the maps shrink by
ceil(size / 2) (28, 14, 7, 4, 2), and every weight ~ N(0, 0.02) with zero biases. TensorFlow's
transposed convolution is the gradient of its convolution; `_transposed` computes exactly that,
which reaches the odd sizes (4 -> 7) that a plain stride-2 transposed convolution cannot.
"""
import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

KERNEL = 5
NUM_LAYERS = 4  # stride-2 layers of each network
_BN = dict(momentum=0.9, epsilon=1e-5)  # tf.contrib.layers.batch_norm(decay=0.9, epsilon=1e-5)
_DN = ('NHWC', 'HWIO', 'NHWC')


def map_sizes(resolution: int):
  """The sizes of the maps from the image down: [28, 14, 7, 4, 2] for 28."""
  sizes = [resolution]
  for _ in range(NUM_LAYERS):
    sizes.append(math.ceil(sizes[-1] / 2))
  return sizes


def _transposed(h, kernel, out_size):
  """TF's conv2d_transpose: the adjoint of a stride-2 'SAME' convolution of an out_size map."""
  shape = (h.shape[0], out_size, out_size, kernel.shape[2])
  conv = lambda x: lax.conv_general_dilated(x, kernel, (2, 2), 'SAME', dimension_numbers=_DN)
  _, adjoint = jax.vjp(conv, jnp.zeros(shape, h.dtype))
  return adjoint(h)[0]


class TransposedConv(nn.Module):
  features: int
  out_size: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, h):
    init = nn.initializers.normal(0.02)
    # HWIO of the convolution this one is the adjoint of: I = our output, O = our input channels.
    kernel = self.param('kernel', init, (KERNEL, KERNEL, self.features, h.shape[-1]))
    bias = self.param('bias', nn.initializers.zeros, (self.features,))
    return _transposed(h.astype(self.dtype), kernel.astype(self.dtype), self.out_size) + bias


class Generator(nn.Module):
  output_shape: Sequence[int]  # (H, W, C)
  latent_dim: int = 100
  latent_distribution: str = 'uniform'
  base_width: int = 64  # gf_dim: the last hidden layer's width; doubles towards the input
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, *, train: bool):
    height, width_px, channels = self.output_shape
    if height != width_px:
      raise ValueError(f'dcgan_tf makes square images; got output_shape {self.output_shape}.')
    sizes = map_sizes(height)
    init = nn.initializers.normal(0.02)
    bn = lambda h: nn.relu(nn.BatchNorm(use_running_average=not train, dtype=self.dtype,
                                        **_BN)(h))
    width = self.base_width * 2 ** (NUM_LAYERS - 1)
    h = nn.Dense(sizes[-1] * sizes[-1] * width, kernel_init=init, dtype=self.dtype)(z)
    h = bn(h.reshape(z.shape[0], sizes[-1], sizes[-1], width))
    for size in sizes[-2:0:-1]:
      width //= 2
      h = bn(TransposedConv(width, size, dtype=self.dtype)(h))
    return jnp.tanh(TransposedConv(channels, sizes[0], dtype=self.dtype)(h))


class Discriminator(nn.Module):
  base_width: int = 64  # df_dim: the first layer's width; doubles with each layer
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    init = nn.initializers.normal(0.02)
    h = x
    for i in range(NUM_LAYERS):
      h = nn.Conv(self.base_width * 2 ** i, (KERNEL, KERNEL), strides=(2, 2), padding='SAME',
                  kernel_init=init, dtype=self.dtype)(h)
      if i > 0:
        h = nn.BatchNorm(use_running_average=not train, dtype=self.dtype, **_BN)(h)
      h = nn.leaky_relu(h, 0.2)
    return nn.Dense(1, kernel_init=init, dtype=self.dtype)(h.reshape(x.shape[0], -1))[:, 0]
