"""pix2pix networks (Isola et al. 2017): U-Net generator and the conditional PatchGAN.

Generator (U-Net, section 6.1.1): encoder C64-C128-C256-C512-C512-... of 4x4 stride-2
convolutions (LeakyReLU 0.2, norm on all but the first and the innermost), down to 1x1 for
num_downsamplings = log2(size) (8 for 256x256); the decoder mirrors it with 4x4 stride-2
transposed convolutions (ReLU before, norm after, dropout 0.5 on the num_downsamplings - 5 layers
next to the innermost, as in the reference code), and each decoder output is concatenated with
the encoder output of the same size (the skip connections). The last layer maps to C channels,
tanh. Batch norm by default, as in the paper (with batch size 1 it acts as instance norm).
Discriminator: the PatchGAN of models/cyclegan.py; the pix2pix game feeds it concat(input, output).
Parameter counts match the reference code's printouts (unet_256: 54.414 M; D on 6 channels:
2.769 M).
"""
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from gan_research.models import cyclegan
from gan_research.models.cyclegan import Discriminator  # noqa: F401  (the conditional PatchGAN)
from gan_research.ops import conv


class Generator(nn.Module):
  """U-Net image-to-image generator; `train=True` applies dropout (needs a 'dropout' rng)."""
  output_shape: Sequence[int]  # (H, W, C) of the images it produces
  base_width: int = 64  # ngf
  num_downsamplings: int = 0  # 0: log2(H), down to 1x1 (8 for 256x256)
  dropout_rate: float = 0.5
  norm: str = 'batch'
  conv_impl: str = 'auto'  # layers.CONV_IMPLS, as models/cyclegan.py's
  conv_backward: str = conv.DEFAULT_BACKWARD  # 'custom_vjp' only: 'im2col' or 'conv' (ops/conv.py)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    depth = self.num_downsamplings or int(x.shape[1]).bit_length() - 1
    if x.shape[1] % 2 ** depth or x.shape[2] % 2 ** depth:
      raise ValueError(f'The U-Net needs H and W divisible by 2^num_downsamplings = '
                       f'{2 ** depth}; got {x.shape[1:3]}.')
    if depth < 2:
      raise ValueError(f'The U-Net needs num_downsamplings >= 2; got {depth}.')
    use_bias = self.norm != 'batch'
    widths = [self.base_width * min(2 ** j, 8) for j in range(depth)]
    norm = lambda: cyclegan.norm_layer(self.norm, train, self.dtype)
    down = lambda width: cyclegan.conv_layer(self.conv_impl, width, 4, 2, 1, use_bias,
                                             self.dtype, self.conv_backward)
    up = lambda width, bias: cyclegan.upsample_layer(self.conv_impl, width, 4, bias, self.dtype,
                                                     self.conv_backward)
    skips = [down(widths[0])(x)]
    for j in range(1, depth):
      h = down(widths[j])(nn.leaky_relu(skips[-1], 0.2))
      skips.append(h if j == depth - 1 else norm()(h))  # the innermost (1x1) has no norm
    h = skips[-1]
    for j in range(depth - 1, 0, -1):
      h = norm()(up(widths[j - 1], use_bias)(nn.relu(h)))
      if 4 <= j <= depth - 2 and self.dropout_rate > 0:
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
      h = jnp.concatenate([skips[j - 1], h], axis=-1)
    h = up(self.output_shape[-1], True)(nn.relu(h))
    return jnp.tanh(h)
