"""StyleGAN2 (Karras et al. 2020, "Analyzing and improving the image quality of StyleGAN"), with
the mapping network of StyleGAN (Karras et al. 2019), scaled by config.

Generator = mapping network z -> w (pixel norm, `mapping_layers` equalised-LR dense layers with
leaky ReLU, learning-rate multiplier 0.01) + synthesis network: a learned 4x4 constant, then per
resolution two 3x3 modulated convolutions with weight demodulation (the first after a 2x
upsampling), per-pixel noise with a learned per-channel strength, and a toRGB output per
resolution summed through upsampled skips. The synthesis network takes one w per layer,
ws [N, num_ws, w_dim], num_ws = 2 * log2(resolution) - 2; layer i reads ws[:, i] and each toRGB
reads the w of the layer after it (the last one reads ws[:, -1]), as in the official code.

Discriminator = StyleGAN2's residual network: fromRGB, per resolution two 3x3 convolutions (the
second downsamples) with a 1x1 skip that downsamples, summed and scaled by 1/sqrt(2); at 4x4 the
minibatch standard deviation layer, a 3x3 convolution and two dense layers. architecture='orig'
drops the skips (StyleGAN2-ADA's CIFAR-10 setting).

Choices (documented in docs/stylegan.md):
- Modulated convolution in the "fused_modconv=False" form: scale the input activations by the
  style, convolve with the shared weight, scale the output by the demodulation coefficient
  rsqrt(sum_{i,k} (w_ik s_i)^2 + 1e-8). It is the same function as the per-sample (grouped)
  convolution, but one ordinary batched convolution, which XLA:CPU runs fast.
- Resampling by the [1, 3, 3, 1] FIR filter (the official filter), written as shifted adds:
  upsampling = filter-and-interpolate, then a plain 3x3 convolution at the higher resolution;
  downsampling = filter, then a stride-2 convolution (ops.conv, im2col backward).
- Equalised learning rate: weights are stored ~ N(0, 1/lr_mul^2) and scaled at run time by
  lr_mul / sqrt(fan_in); biases are scaled by lr_mul. With Adam this makes lr_mul a multiplier on
  the effective learning rate of the layer.
- Images are linear outputs in training (as in the paper), or tanh outputs with
  output_activation='tanh' (what MNIST at CPU widths needs, docs/stylegan.md); with train=False
  __call__ clips them to [-1, 1] for the models contract.
"""
import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from gan_research.models import layers
from gan_research.ops import conv as fast_conv

NOISE_MODES = ('random', 'const', 'none')
_LRELU_GAIN = math.sqrt(2.0)  # keeps unit variance through leaky ReLU(0.2) (He init argument)


def lrelu(x):
  return nn.leaky_relu(x, 0.2) * _LRELU_GAIN


def num_ws(resolution: int) -> int:
  """Layers that take a style: 1 at 4x4, 2 per higher resolution, plus the last toRGB."""
  return 2 * _log2(resolution) - 2


def _log2(resolution: int) -> int:
  log = round(math.log2(resolution)) if resolution > 0 else -1
  if resolution < 4 or 2 ** log != resolution:
    raise ValueError(f'StyleGAN resolutions are powers of two >= 4 (8, 16, 32, ..., 1024); got '
                     f'{resolution}. Set config.image_size to one of those.')
  return log


def channels_at(resolution: int, channel_base: int, channel_max: int) -> int:
  """min(channel_base / resolution, channel_max), as in the official configs."""
  return max(1, min(channel_base // resolution, channel_max))


# ----------------------------------------------------------------------------------------------
# Resampling with the [1, 3, 3, 1] filter (separable, zero padding as upfirdn2d), written as
# shifted adds: XLA:CPU (jaxlib 0.10.2) runs their gradients far faster than those of the same
# filter as depthwise convolutions (docs/performance.md).

def _shift(x, offset, axis):
  """x shifted by `offset` along axis with zeros coming in: out[i] = x[i - offset]."""
  n = x.shape[axis]
  pad = [(0, 0)] * x.ndim
  pad[axis] = (max(offset, 0), max(-offset, 0))
  x = jnp.pad(x, pad)
  start = max(-offset, 0)
  return lax.slice_in_dim(x, start, start + n, axis=axis)


def _upsample_axis(x, axis):
  # Zero-stuffing then [1, 3, 3, 1] * 2 / 4 gives out[2i] = 3/4 x[i] + 1/4 x[i-1],
  # out[2i+1] = 3/4 x[i] + 1/4 x[i+1].
  even = 0.75 * x + 0.25 * _shift(x, 1, axis)
  odd = 0.75 * x + 0.25 * _shift(x, -1, axis)
  out = jnp.stack([even, odd], axis=axis + 1)
  shape = list(x.shape)
  shape[axis] *= 2
  return out.reshape(shape)


def upsample2x(x):
  """[N, H, W, C] -> [N, 2H, 2W, C] with the [1, 3, 3, 1] filter (gain 4, so constants stay)."""
  return _upsample_axis(_upsample_axis(x, 1), 2)


def blur(x):
  """The filter / 8 per axis over pixels i-1 .. i+2 (zeros outside), same size: out[2i] is
  centred between input pixels 2i and 2i+1, where a stride-2 layer's output i sits."""
  for axis in (1, 2):
    x = (_shift(x, 1, axis) + 3.0 * x + 3.0 * _shift(x, -1, axis) + _shift(x, -2, axis)) / 8.0
  return x


def downsample2x(x):
  """[N, H, W, C] -> [N, H/2, W/2, C]: the filter, then every second pixel."""
  return blur(x)[:, ::2, ::2, :]


# ----------------------------------------------------------------------------------------------
# Equalised learning-rate layers.

class EqualDense(nn.Module):
  """Dense layer with equalised learning rate (Karras et al. 2018).

  weight ~ N(0, 1) / lr_mul stored, used as weight * lr_mul / sqrt(fan_in); bias * lr_mul.
  Adam's step on the stored weight is about lr whatever its scale, so the layer's effective
  learning rate is lr * lr_mul / sqrt(fan_in).
  """
  features: int
  lr_mul: float = 1.0
  bias_init: float = 0.0
  use_bias: bool = True
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    fan_in = x.shape[-1]
    weight = self.param('kernel', lambda k, s: jax.random.normal(k, s) / self.lr_mul,
                        (fan_in, self.features))
    y = x.astype(self.dtype) @ (weight * (self.lr_mul / math.sqrt(fan_in))).astype(self.dtype)
    if self.use_bias:
      # float32, not weakly typed: a weak-typed parameter becomes strong after the first update
      # and the jitted train step would compile a second time.
      bias = self.param('bias',
                        lambda k, s: jnp.full(s, self.bias_init / self.lr_mul, jnp.float32),
                        (self.features,))
      y = y + (bias * self.lr_mul).astype(self.dtype)
    return y


def _conv(x, kernel, stride=1):
  """3x3 / 1x1 convolution with 'same' padding (stride 2: pixels 2i-1 .. 2i+1 of the blurred
  input), through ops.conv: its im2col backward is faster than lax's on XLA:CPU (jaxlib 0.10.2)
  for StyleGAN's 3x3 layers (docs/performance.md)."""
  k = kernel.shape[0]
  pad = ((k // 2, (k - 1) // 2),) * 2
  return fast_conv.conv2d(x, kernel, (stride, stride), pad)


class EqualConv(nn.Module):
  """Convolution with equalised learning rate: weight N(0, 1) scaled by 1/sqrt(k*k*in)."""
  features: int
  kernel_size: int = 3
  stride: int = 1
  use_bias: bool = True
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    k, c = self.kernel_size, x.shape[-1]
    weight = self.param('kernel', nn.initializers.normal(1.0), (k, k, c, self.features))
    kernel = (weight / math.sqrt(k * k * c)).astype(self.dtype)
    y = _conv(x.astype(self.dtype), kernel, self.stride)
    if self.use_bias:
      y = y + self.param('bias', nn.initializers.zeros, (self.features,)).astype(self.dtype)
    return y


# ----------------------------------------------------------------------------------------------
# Generator.

def modulated_conv(x, weight, styles, *, demodulate=True, eps=1e-8):
  """StyleGAN2's modulated convolution, weight [k, k, in, out], styles [N, in].

  out = conv(x * s, w) * d, d[n, o] = rsqrt(sum_{k, i} (w[k, i, o] s[n, i])^2 + eps): the same
  as convolving each sample with its own weight w * s normalised to unit norm per output channel.
  """
  y = _conv(x * styles[:, None, None, :].astype(x.dtype), weight)
  if demodulate:
    # sum_{k,i} w^2 s_i^2 = (s^2) @ (sum_k w^2): one [N, in] x [in, out] product.
    w_sq = jnp.sum(jnp.square(weight.astype(jnp.float32)), axis=(0, 1))
    demod = lax.rsqrt(jnp.square(styles.astype(jnp.float32)) @ w_sq + eps)
    y = y * demod[:, None, None, :].astype(y.dtype)
  return y


class ModulatedConv(nn.Module):
  """Affine style from w, modulated (and demodulated) convolution, noise, bias, leaky ReLU."""
  features: int
  kernel_size: int = 3
  upsample: bool = False
  demodulate: bool = True
  use_noise: bool = True
  activation: bool = True
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, w, noise=None):
    c, k = x.shape[-1], self.kernel_size
    # The affine layer's bias starts at 1: styles start near 1, the layer near a plain conv.
    styles = EqualDense(c, bias_init=1.0, name='affine', dtype=jnp.float32)(w)
    weight = self.param('kernel', nn.initializers.normal(1.0), (k, k, c, self.features))
    if not self.demodulate:  # toRGB: the equalised-LR gain is folded into the styles
      styles = styles / math.sqrt(k * k * c)
    if self.upsample:
      x = upsample2x(x)
    y = modulated_conv(x.astype(self.dtype), weight.astype(self.dtype), styles,
                       demodulate=self.demodulate)
    if self.use_noise:
      strength = self.param('noise_strength', nn.initializers.zeros, (self.features,))
      if noise is not None:
        y = y + noise.astype(y.dtype) * strength.astype(y.dtype)
    y = y + self.param('bias', nn.initializers.zeros, (self.features,)).astype(y.dtype)
    return lrelu(y) if self.activation else y


class MappingNetwork(nn.Module):
  """z -> w: pixel norm of z, then `num_layers` equalised-LR dense layers, leaky ReLU."""
  w_dim: int = 512
  hidden_dim: int = 512
  num_layers: int = 8
  lr_mul: float = 0.01

  @nn.compact
  def __call__(self, z):
    x = z * lax.rsqrt(jnp.mean(jnp.square(z), axis=-1, keepdims=True) + 1e-8)  # pixel norm
    for i in range(self.num_layers):
      features = self.w_dim if i == self.num_layers - 1 else self.hidden_dim
      x = lrelu(EqualDense(features, lr_mul=self.lr_mul, name=f'dense{i}')(x))
    return x


class SynthesisNetwork(nn.Module):
  """ws [N, num_ws, w_dim] (+ noise) -> images [N, R, R, C]."""
  resolution: int
  channels: int
  channel_base: int
  channel_max: int
  dtype: Any = jnp.float32

  def noise_shapes(self):
    """(H, W) of each noise input, in layer order."""
    shapes = [(4, 4)]
    for log in range(3, _log2(self.resolution) + 1):
      shapes += [(2 ** log, 2 ** log)] * 2
    return shapes

  @nn.compact
  def __call__(self, ws, *, noise_mode='random', noise=None):
    if noise_mode not in NOISE_MODES:
      raise ValueError(f'Unknown noise_mode {noise_mode!r}; valid: {list(NOISE_MODES)}.')
    n, count = ws.shape[0], num_ws(self.resolution)
    if ws.shape[1] != count:
      raise ValueError(f'The synthesis network at {self.resolution}x{self.resolution} takes '
                       f'{count} ws; got ws of shape {ws.shape}.')
    shapes = self.noise_shapes()
    if noise is None:
      noise = [self._noise(noise_mode, i, n, hw) for i, hw in enumerate(shapes)]
    width = lambda res: channels_at(res, self.channel_base, self.channel_max)
    const = self.param('const', nn.initializers.normal(1.0), (4, 4, width(4)))
    x = jnp.broadcast_to(const, (n, 4, 4, width(4))).astype(self.dtype)
    layer = 0
    x = ModulatedConv(width(4), name='b4_conv1', dtype=self.dtype)(x, ws[:, 0], noise[0])
    img = ModulatedConv(self.channels, 1, demodulate=False, use_noise=False, activation=False,
                        name='b4_torgb', dtype=self.dtype)(x, ws[:, 1])
    layer = 1
    for log in range(3, _log2(self.resolution) + 1):
      res = 2 ** log
      x = ModulatedConv(width(res), upsample=True, name=f'b{res}_conv0', dtype=self.dtype)(
          x, ws[:, layer], noise[layer])
      x = ModulatedConv(width(res), name=f'b{res}_conv1', dtype=self.dtype)(
          x, ws[:, layer + 1], noise[layer + 1])
      layer += 2
      rgb = ModulatedConv(self.channels, 1, demodulate=False, use_noise=False, activation=False,
                          name=f'b{res}_torgb', dtype=self.dtype)(x, ws[:, layer])
      img = upsample2x(img) + rgb
    return img

  def _noise(self, mode, index, n, hw):
    if mode == 'none':
      return None
    if mode == 'const' or not self.has_rng('noise'):
      # One fixed noise image per layer, shared by all samples ("noise_mode='const'").
      rng = jax.random.fold_in(jax.random.key(12345), index)
      return jnp.broadcast_to(jax.random.normal(rng, (1, *hw, 1)), (n, *hw, 1))
    return jax.random.normal(self.make_rng('noise'), (n, *hw, 1))


def truncate(ws, w_avg, psi):
  """Truncation trick: w_avg + psi (w - w_avg). psi=1: w unchanged; psi=0: the average w."""
  return w_avg + psi * (ws - w_avg)


def mix_styles(ws1, ws2, cutoff):
  """Layer i takes ws1[:, i] for i < cutoff and ws2[:, i] from cutoff on; cutoff [N] or scalar."""
  layer = jnp.arange(ws1.shape[1])[None, :, None]
  return jnp.where(layer < jnp.reshape(cutoff, (-1, 1, 1)), ws1, ws2)


class Generator(nn.Module):
  """StyleGAN2 generator. __call__(z, train) follows the models contract; `mapping`,
  `synthesis` and the keyword arguments give w, truncation, mixing and noise control."""
  output_shape: Sequence[int]  # (H, W, C); H = W a power of two
  latent_dim: int = 512  # z
  latent_distribution: str = 'normal'
  w_dim: int = 512
  mapping_layers: int = 8
  mapping_width: int = 512
  mapping_lr_mul: float = 0.01
  channel_base: int = 32768  # channels at resolution r: min(channel_base / r, channel_max)
  channel_max: int = 512
  # 'linear' (StyleGAN2), 'tanh' or another name of layers.ACTIVATIONS. On MNIST (pixels at -1
  # and +1, which a linear output only comes near) every linear-output run at CPU widths
  # collapsed to one digit; tanh, as DCGAN's output, trained varied digits (docs/stylegan.md).
  output_activation: str = 'linear'
  dtype: Any = jnp.float32

  def setup(self):
    height, width, channels = self.output_shape
    if height != width:
      raise ValueError(f'StyleGAN needs square images; got output_shape {self.output_shape}.')
    self.output_fn = layers.get_activation(self.output_activation)
    self.num_ws = num_ws(height)
    self.mapping_network = MappingNetwork(self.w_dim, self.mapping_width, self.mapping_layers,
                                          self.mapping_lr_mul)
    self.synthesis_network = SynthesisNetwork(height, channels, self.channel_base,
                                              self.channel_max, self.dtype)

  def mapping(self, z, *, w_avg=None, psi=1.0):
    """z [N, latent_dim] -> ws [N, num_ws, w_dim] (the same w for every layer), truncated
    towards w_avg when psi != 1."""
    w = self.mapping_network(z)
    if w_avg is not None:
      w = truncate(w, w_avg, psi)
    return jnp.broadcast_to(w[:, None, :], (w.shape[0], self.num_ws, w.shape[-1]))

  def synthesis(self, ws, *, noise_mode='random', noise=None):
    """ws [N, num_ws, w_dim] -> images (through output_activation, not clipped). noise: a list
    of [N, H, W, 1] per layer (see noise_shapes) overrides noise_mode."""
    img = self.synthesis_network(ws, noise_mode=noise_mode, noise=noise)
    return self.output_fn(img)

  def noise_shapes(self):
    return self.synthesis_network.noise_shapes()

  def __call__(self, z, *, train: bool, w_avg=None, psi=1.0, noise_mode='random',
               mix_z=None, mix_cutoff=None):
    """z -> images [N, H, W, C]; clipped to [-1, 1] when not training.

    mix_z, mix_cutoff: style mixing, layers >= mix_cutoff take w from mix_z (both truncated).
    Random noise needs rngs={'noise': key}; without it the fixed noise is used.
    """
    ws = self.mapping(z, w_avg=w_avg, psi=psi)
    if mix_z is not None:
      ws = mix_styles(ws, self.mapping(mix_z, w_avg=w_avg, psi=psi), mix_cutoff)
    img = self.synthesis(ws, noise_mode=noise_mode)
    return img if train else jnp.clip(img, -1.0, 1.0)


# ----------------------------------------------------------------------------------------------
# Discriminator.

def minibatch_stddev(x, group_size=4, num_channels=1):
  """Appends the std over groups of samples, averaged over features and pixels (Karras 2018).

  Sample n is grouped with the samples n + k*(N/G): the official code's reshape [G, N/G, ...].
  """
  n, h, w, c = x.shape
  g = min(group_size, n)
  if n % g:
    raise ValueError(f'The minibatch std layer needs the batch ({n}) divisible by its group size '
                     f'{g}.')
  y = x.astype(jnp.float32).reshape(g, n // g, h * w * num_channels, c // num_channels)
  y = y - jnp.mean(y, axis=0)
  y = jnp.sqrt(jnp.mean(jnp.square(y), axis=0) + 1e-8)  # [N/G, H*W*F, c]
  y = jnp.mean(y.reshape(n // g, h * w, num_channels, -1), axis=(1, 3))  # [N/G, F]
  y = jnp.tile(y, (g, 1))[:, None, None, :]
  y = jnp.broadcast_to(y, (n, h, w, num_channels)).astype(x.dtype)
  return jnp.concatenate([x, y], axis=-1)


D_ARCHITECTURES = ('resnet', 'orig')


class Discriminator(nn.Module):
  """StyleGAN2 discriminator -> one logit per image.

  architecture: 'resnet' (StyleGAN2's default, config F) adds a 1x1 skip per block; 'orig' is
  the same blocks without skips, which StyleGAN2-ADA uses for CIFAR-10 (its `cifar` config).
  """
  channel_base: int = 32768
  channel_max: int = 512
  mbstd_group_size: int = 4
  mbstd_channels: int = 1
  architecture: str = 'resnet'
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    del train  # no BatchNorm / dropout
    if self.architecture not in D_ARCHITECTURES:
      raise ValueError(f'Unknown StyleGAN discriminator architecture {self.architecture!r}; '
                       f'valid: {list(D_ARCHITECTURES)}.')
    width = lambda res: channels_at(res, self.channel_base, self.channel_max)
    res = x.shape[1]
    _log2(res)
    h = lrelu(EqualConv(width(res), 1, name=f'b{res}_fromrgb', dtype=self.dtype)(x))
    while res > 4:
      if self.architecture == 'resnet':
        skip = EqualConv(width(res // 2), 1, use_bias=False, name=f'b{res}_skip',
                         dtype=self.dtype)(downsample2x(h))
      h = lrelu(EqualConv(width(res), 3, name=f'b{res}_conv0', dtype=self.dtype)(h))
      h = lrelu(EqualConv(width(res // 2), 3, stride=2, name=f'b{res}_conv1',
                          dtype=self.dtype)(blur(h)))
      if self.architecture == 'resnet':
        h = (skip + h) * (1.0 / math.sqrt(2.0))
      res //= 2
    h = minibatch_stddev(h, self.mbstd_group_size, self.mbstd_channels)
    h = lrelu(EqualConv(width(4), 3, name='b4_conv', dtype=self.dtype)(h))
    h = lrelu(EqualDense(width(4), name='b4_fc', dtype=self.dtype)(h.reshape(h.shape[0], -1)))
    return EqualDense(1, name='b4_out', dtype=self.dtype)(h).reshape(x.shape[0])


def count_params(tree) -> int:
  return int(sum(np.prod(x.shape) for x in jax.tree.leaves(tree)))


def param_count(generator: Generator, discriminator: Discriminator,
                example_shape: Sequence[int] | None = None):
  """(G, D) parameter counts from shapes only (jax.eval_shape: nothing is allocated)."""
  shape = tuple(example_shape or generator.output_shape)
  z = jax.ShapeDtypeStruct((1, generator.latent_dim), jnp.float32)
  x = jax.ShapeDtypeStruct((1, *shape), jnp.float32)
  g = jax.eval_shape(lambda z: generator.init(jax.random.key(0), z, train=False), z)
  d = jax.eval_shape(lambda x: discriminator.init(jax.random.key(0), x, train=False), x)
  return count_params(g['params']), count_params(d['params'])
