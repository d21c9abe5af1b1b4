"""CycleGAN networks (Zhu et al. 2017, appendix 7.2; Johnson et al. 2016's ResNet generator).

Generator (ResNet, for 128px: 6 blocks, 256px: 9):
  c7s1-w, d2w, d4w, R4w x num_res_blocks, u2w, uw, c7s1-C, tanh
  c7s1-k: reflection pad 3, 7x7 convolution, instance norm, ReLU; dk: 3x3 stride-2 convolution,
  instance norm, ReLU; Rk: two reflection-padded 3x3 convolutions with instance norm and a skip;
  uk: 3x3 stride-1/2 transposed convolution (output twice the input), instance norm, ReLU.
Discriminator (70x70 PatchGAN, Isola et al. 2017): C64-C128-C256-C512 of 4x4 convolutions (stride
  2, the last stride 1), LeakyReLU(0.2), norm on all but the first, then a 4x4 convolution to one
  logit per patch: logits [N, H', W'] (30x30 for 256x256 inputs; each sees a 70x70 patch).

The generator maps images to images: `G.apply(variables, x, train=...) -> [N, H, W, C]` in
[-1, 1]. Norms carry no scale/offset (PyTorch's InstanceNorm2d default) and convolutions followed
by an instance norm keep their bias, as in the reference code, so parameter counts match its
printouts (G 9 blocks: 11.378 M, D: 2.765 M). Weights ~ N(0, 0.02) (the reference's 'normal').
"""
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gan_research.models import layers
from gan_research.ops import conv, conv_transpose

NORMS = ('instance', 'batch', 'none')
_BN = {'momentum': 0.9, 'epsilon': 1e-5}  # PyTorch's BatchNorm2d defaults (momentum 0.1 there)


def reflect_pad(x, pad: int):
  """Reflection padding of the two spatial dimensions (PyTorch's ReflectionPad2d)."""
  return jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode='reflect')


def norm_layer(norm: str, train: bool, dtype):
  """The normalisation after a convolution: instance (no affine), batch, or identity."""
  layers.check_choice('norm', norm, NORMS)
  if norm == 'instance':
    return nn.InstanceNorm(epsilon=1e-5, use_scale=False, use_bias=False, dtype=dtype)
  if norm == 'batch':
    return nn.BatchNorm(use_running_average=not train, dtype=dtype, **_BN)
  return lambda h: h


def conv_layer(conv_impl: str, features, kernel, stride, pad, use_bias, dtype,
               backward: str = conv.DEFAULT_BACKWARD):
  """A kernel x kernel convolution with zero padding `pad`.

  conv_impl (layers.CONV_IMPLS) 'custom_vjp' gives strided convolutions the hand-written
  backward `backward` of ops/conv.py ('im2col' or 'conv'); stride-1 convolutions stay flax's,
  whose gradients XLA:CPU runs well (the im2col form of the 7x7 layers was slower both to
  differentiate and to compile; docs/cyclegan.md, docs/performance.md).
  """
  kwargs = dict(strides=(stride, stride), padding=((pad, pad), (pad, pad)), use_bias=use_bias,
                kernel_init=layers.dcgan_init(), dtype=dtype)
  strided = layers.strided_conv(conv_impl, backward)  # (also rejects an unknown conv_impl)
  return (strided if stride > 1 else nn.Conv)(features, (kernel, kernel), **kwargs)


def upsample_layer(conv_impl: str, features, kernel, use_bias, dtype,
                   backward: str = conv_transpose.DEFAULT_BACKWARD):
  """Stride-2 transposed convolution doubling H and W (PyTorch's ConvTranspose2d with padding
  (kernel - 1) // 2 and output_padding kernel % 2: the dilated input is padded (k-1-p, k-p)).
  conv_impl='custom_vjp': ops/conv_transpose.py with the hand-written backward `backward`."""
  p = (kernel - 1) // 2
  return layers.transposed_conv(conv_impl, backward)(
      features, (kernel, kernel), strides=(2, 2),
      padding=((kernel - 1 - p, kernel - 1 - p + kernel % 2),) * 2, use_bias=use_bias,
      kernel_init=layers.dcgan_init(), dtype=dtype)


class ResidualBlock(nn.Module):
  features: int
  norm: str = 'instance'
  conv_impl: str = 'auto'
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    use_bias = self.norm != 'batch'
    h = conv_layer(self.conv_impl, self.features, 3, 1, 0, use_bias, self.dtype)(reflect_pad(x, 1))
    h = nn.relu(norm_layer(self.norm, train, self.dtype)(h))
    h = conv_layer(self.conv_impl, self.features, 3, 1, 0, use_bias, self.dtype)(reflect_pad(h, 1))
    return x + norm_layer(self.norm, train, self.dtype)(h)


class Generator(nn.Module):
  """ResNet image-to-image generator; output channels = output_shape[-1]."""
  output_shape: Sequence[int]  # (H, W, C) of the images it produces
  base_width: int = 64  # ngf: width of the first layer; doubles with each downsampling
  num_res_blocks: int = 9  # 6 for 128x128, 9 for 256x256 in the paper
  num_downsamplings: int = 2
  norm: str = 'instance'
  # layers.CONV_IMPLS: 'custom_vjp' takes the strided and transposed convolutions from ops/
  # (hand-written gradients), 'lax' flax's; 'auto': 'custom_vjp' on CPU only.
  conv_impl: str = 'auto'
  conv_backward: str = conv.DEFAULT_BACKWARD  # 'custom_vjp' only: 'im2col' or 'conv' (ops/conv.py)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    factor = 2 ** self.num_downsamplings
    if x.shape[1] % factor or x.shape[2] % factor:
      raise ValueError(f'The ResNet generator needs H and W divisible by 2^num_downsamplings = '
                       f'{factor}; got {x.shape[1:3]}.')
    use_bias = self.norm != 'batch'
    norm = lambda: norm_layer(self.norm, train, self.dtype)
    h = conv_layer(self.conv_impl, self.base_width, 7, 1, 0, use_bias, self.dtype)(
        reflect_pad(x, 3))
    h = nn.relu(norm()(h))
    width = self.base_width
    for _ in range(self.num_downsamplings):
      width *= 2
      h = nn.relu(norm()(conv_layer(self.conv_impl, width, 3, 2, 1, use_bias, self.dtype,
                                    self.conv_backward)(h)))
    for _ in range(self.num_res_blocks):
      h = ResidualBlock(width, self.norm, self.conv_impl, self.dtype)(h, train=train)
    for _ in range(self.num_downsamplings):
      width //= 2
      h = nn.relu(norm()(upsample_layer(self.conv_impl, width, 3, use_bias, self.dtype,
                                        self.conv_backward)(h)))
    h = conv_layer(self.conv_impl, self.output_shape[-1], 7, 1, 0, True, self.dtype)(
        reflect_pad(h, 3))
    return jnp.tanh(h)


class Discriminator(nn.Module):
  """PatchGAN: one logit per (receptive-field) patch, [N, H', W'].

  num_layers=3 is the 70x70 PatchGAN; each extra layer widens the patch. A conditional
  discriminator (pix2pix) is the same network applied to concat(input, output) channels.
  """
  base_width: int = 64  # ndf
  num_layers: int = 3  # stride-2 layers; 3 gives the 70x70 receptive field
  norm: str = 'instance'
  conv_impl: str = 'auto'  # as Generator's
  conv_backward: str = conv.DEFAULT_BACKWARD  # 'custom_vjp' only: 'im2col' or 'conv' (ops/conv.py)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    use_bias = self.norm != 'batch'
    h = nn.leaky_relu(conv_layer(self.conv_impl, self.base_width, 4, 2, 1, True, self.dtype,
                                 self.conv_backward)(x), 0.2)
    for i in range(1, self.num_layers + 1):
      stride = 2 if i < self.num_layers else 1
      width = self.base_width * min(2 ** i, 8)
      h = conv_layer(self.conv_impl, width, 4, stride, 1, use_bias, self.dtype,
                     self.conv_backward)(h)
      h = nn.leaky_relu(norm_layer(self.norm, train, self.dtype)(h), 0.2)
    h = conv_layer(self.conv_impl, 1, 4, 1, 1, True, self.dtype)(h)
    return h[..., 0]
