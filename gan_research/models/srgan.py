"""SRGAN networks (Ledig et al. 2017, Figure 4): the SRResNet generator and its discriminator.

Generator (SRResNet): a 9x9 convolution to `width` channels and PReLU; `num_blocks` residual blocks
(3x3 conv, BN, PReLU, 3x3 conv, BN, plus the block's input); a 3x3 conv and BN added to the output
of the first layer (the long skip); then per factor 2 of `scale` a 3x3 conv to 4 * width channels,
the sub-pixel shuffle (Shi et al. 2016) and PReLU; a 9x9 conv to C channels. The paper's output is
linear on targets in [-1, 1]; ours ends in tanh, the project's image contract. The paper's sizes:
width 64, 16 blocks, scale 4.
Discriminator: a 3x3 conv (width, LeakyReLU 0.2), then conv-BN-LeakyReLU layers alternating
stride 2 and stride 1 with the width doubling at each stride-1 layer (64 s2, 128, 128 s2, 256,
256 s2, 512, 512 s2 for `num_stages`=4 on 96x96), a dense layer of `dense_width` (1024),
LeakyReLU, and one logit per image.

`Generator.apply(variables, x_lr, train=...)` maps [N, h, w, C] low-resolution images in [-1, 1]
to [N, scale h, scale w, C] in [-1, 1]; `Discriminator.apply(variables, x, train=...)` -> [N].
"""
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gan_research.models import cyclegan, layers
from gan_research.ops import conv

NORMS = ('batch', 'none')


def pixel_shuffle(x, factor: int):
  """Sub-pixel convolution's rearrangement (PyTorch's PixelShuffle order), NHWC:
  out[n, h * r + i, w * r + j, k] = x[n, h, w, k * r * r + i * r + j] for r = factor."""
  n, h, w, c = x.shape
  if c % (factor * factor):
    raise ValueError(f'pixel_shuffle by {factor} needs channels divisible by {factor ** 2}; '
                     f'got {c}.')
  x = x.reshape(n, h, w, c // (factor * factor), factor, factor)
  return x.transpose(0, 1, 4, 2, 5, 3).reshape(n, h * factor, w * factor, c // (factor * factor))


def _norm(norm, train, dtype):
  layers.check_choice('norm', norm, NORMS)
  return cyclegan.norm_layer(norm, train, dtype)


def _prelu():
  return nn.PReLU(negative_slope_init=0.25)  # PyTorch's nn.PReLU() start, as SRGAN's code


class Generator(nn.Module):
  """SRResNet: low-resolution [N, h, w, C] -> [N, scale h, scale w, C] (see the module)."""
  output_shape: Sequence[int]  # (H, W, C) of the high-resolution images
  scale: int = 4  # a power of 2
  width: int = 64
  num_blocks: int = 16
  norm: str = 'batch'
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    if self.scale < 2 or self.scale & (self.scale - 1):
      raise ValueError(f'SRResNet upsamples by factors of 2: scale must be 2, 4, 8, ...; got '
                       f'{self.scale}.')
    expected = tuple(d // self.scale for d in self.output_shape[:2])
    if tuple(x.shape[1:3]) != expected:
      raise ValueError(f'SRResNet x{self.scale} to {tuple(self.output_shape)} takes '
                       f'{expected} inputs; got {tuple(x.shape[1:3])}.')
    use_bias = self.norm != 'batch'
    conv3 = lambda width, bias=use_bias: nn.Conv(width, (3, 3), padding=1, use_bias=bias,
                                                 dtype=self.dtype)
    norm = lambda: _norm(self.norm, train, self.dtype)
    h = _prelu()(nn.Conv(self.width, (9, 9), padding=4, dtype=self.dtype)(x))
    skip = h
    for _ in range(self.num_blocks):
      r = _prelu()(norm()(conv3(self.width)(h)))
      h = h + norm()(conv3(self.width)(r))
    h = skip + norm()(conv3(self.width)(h))
    for _ in range(self.scale.bit_length() - 1):
      h = _prelu()(pixel_shuffle(conv3(4 * self.width, True)(h), 2))
    h = nn.Conv(self.output_shape[-1], (9, 9), padding=4, dtype=self.dtype)(h)
    return jnp.tanh(h)


class Discriminator(nn.Module):
  """SRGAN's discriminator: images [N, H, W, C] -> logits [N] (see the module)."""
  width: int = 64
  num_stages: int = 4  # stride-2 layers
  dense_width: int = 1024
  norm: str = 'batch'
  conv_impl: str = 'auto'  # layers.CONV_IMPLS, for the stride-2 layers
  conv_backward: str = conv.DEFAULT_BACKWARD
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    use_bias = self.norm != 'batch'
    act = lambda h: nn.leaky_relu(h, 0.2)
    h = act(nn.Conv(self.width, (3, 3), padding=1, dtype=self.dtype)(x))
    for stage in range(self.num_stages):
      width = self.width * 2 ** min(stage, 3)
      if stage > 0:
        h = nn.Conv(width, (3, 3), padding=1, use_bias=use_bias, dtype=self.dtype)(h)
        h = act(_norm(self.norm, train, self.dtype)(h))
      h = cyclegan.conv_layer(self.conv_impl, width, 3, 2, 1, use_bias, self.dtype,
                              self.conv_backward)(h)
      h = act(_norm(self.norm, train, self.dtype)(h))
    h = act(nn.Dense(self.dense_width, dtype=self.dtype)(h.reshape(h.shape[0], -1)))
    return nn.Dense(1, dtype=self.dtype)(h)[:, 0]
