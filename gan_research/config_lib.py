"""Config helpers: the fields every experiment shares, `:key=value` arguments, validation."""
import json
import os

import ml_collections

from gan_research import compiler

SHARED_DATA_ENV = 'GAN_RESEARCH_DATA'  # optional default for config.data_dir
COMPUTE_DTYPES = ('float32', 'bfloat16')


def base_config() -> ml_collections.ConfigDict:
  """The fields every experiment has; experiment files override what they need."""
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.game = 'unconditional'
  c.model = 'mlp'
  c.generator = ml_collections.ConfigDict()  # keyword arguments of models.<model>.Generator
  c.discriminator = ml_collections.ConfigDict()  # ... of models.<model>.Discriminator
  c.objective = 'nonsaturating'  # objectives.OBJECTIVES
  c.penalty = 'none'  # 'none', 'gradient_penalty' (WGAN-GP) or 'r1'
  c.penalty_weight = 0.0  # lambda of WGAN-GP, gamma of R1
  c.penalty_every = 1  # discriminator updates between penalties (lazy regularisation)
  c.g_penalty_every = 1  # generator updates between the game's G regulariser (if it has one)
  c.d_weight_clip = 0.0  # WGAN weight clipping of D's parameters; 0 = off
  c.dataset = 'ring8'  # data.DATASETS
  c.data_dir = os.environ.get(SHARED_DATA_ENV, '')  # TFDS data dir, IDX folder or image folder
  c.data = ml_collections.ConfigDict()  # keyword arguments of the source (e.g. num_modes)
  c.image_size = 32  # pixels; image datasets are resized (28 -> 32 pads) to this
  c.batch_size = 64  # global, across all devices and processes
  c.num_train_steps = 1000  # generator updates
  c.d_steps = 1  # discriminator updates per generator update
  # PacGAN (Lin et al. 2018): D judges `pack` samples at once, concatenated on the feature /
  # channel axis; batch_size stays the number of samples per player (1 = off).
  c.pack = 1
  # Unrolled GAN (Metz et al. 2017): G's loss is taken against D after this many differentiable
  # optimiser steps of D (0 = off); D's own update is unchanged.
  c.unroll_steps = 0
  c.ema_decay = 0.0  # EMA of the generator's parameters; 0 = off
  # What G and D compute in: 'float32' or 'bfloat16' (mixed precision: parameters, optimiser
  # states, logits and losses stay float32; about 2x less activation memory and faster matmuls
  # on TPUs and recent GPUs, slower on most CPUs).
  c.compute_dtype = 'float32'
  # The kernels XLA:CPU runs convolutions with: 'ynnpack' (jaxlib's default) or 'xla' (see
  # compiler.py; faster for the DCGAN, slower for StyleGAN). Ignored on GPU and TPU.
  c.cpu_conv_backend = 'ynnpack'
  c.optimizer_g = adam(2e-4, 0.5, 0.999)
  c.optimizer_d = adam(2e-4, 0.5, 0.999)
  c.log_every_steps = 100
  c.checkpoint_every_steps = 1000
  c.keep_checkpoints = 3
  c.sample_every_steps = 1000
  c.evals = ml_collections.ConfigDict()  # name -> dict(every_steps=..., ...); metrics.EVALUATORS
  return c


def adam(learning_rate, b1=0.9, b2=0.999, schedule='constant'):
  return ml_collections.ConfigDict(dict(
      name='adam', learning_rate=learning_rate, b1=b1, b2=b2, eps=1e-8, eps_root=0.0,
      schedule=schedule, warmup_steps=0, decay_start_steps=0, decay_steps=0))


def parse_arg(arg, **defaults) -> ml_collections.ConfigDict:
  """Parses 'res=32,runlocal' (the part after ':' in --config=FILE:ARG) against typed defaults.

  A bare key sets a bool default to True. Unknown keys fail with the valid ones listed.
  """
  out = ml_collections.ConfigDict(defaults)
  for item in filter(None, (arg or '').split(',')):
    key, _, value = item.partition('=')
    if key not in defaults:
      raise ValueError(f'Unknown config argument {key!r}; valid arguments: {sorted(defaults)}.')
    default = defaults[key]
    if isinstance(default, bool):
      out[key] = value.lower() in ('', '1', 'true', 'yes')
    else:
      out[key] = type(default)(value) if default is not None else value
  return out


def validate(config):
  """Clear errors for values that would otherwise fail deep inside JAX."""
  positive = ('batch_size', 'd_steps', 'log_every_steps', 'penalty_every', 'g_penalty_every',
              'pack')
  for key in positive:
    if config.get(key, 1) < 1:
      raise ValueError(f'config.{key} must be >= 1; got {config[key]}.')
  if config.num_train_steps < 0:
    raise ValueError(f'config.num_train_steps must be >= 0; got {config.num_train_steps}.')
  if not 0.0 <= config.ema_decay < 1.0:
    raise ValueError(f'config.ema_decay must be in [0, 1); got {config.ema_decay}.')
  if config.get('compute_dtype', 'float32') not in COMPUTE_DTYPES:
    raise ValueError(f'Unknown config.compute_dtype {config.compute_dtype!r}; valid: '
                     f'{list(COMPUTE_DTYPES)}.')
  compiler.check_cpu_conv_backend(config.get('cpu_conv_backend', 'ynnpack'))
  if config.get('unroll_steps', 0) < 0:
    raise ValueError(f'config.unroll_steps must be >= 0; got {config.unroll_steps}.')
  if config.batch_size % config.get('pack', 1):
    raise ValueError(f'config.batch_size={config.batch_size} must be divisible by config.pack='
                     f'{config.pack}: D sees batch_size / pack packed inputs.')
  if config.penalty != 'none' and config.penalty_weight <= 0:
    raise ValueError(f'config.penalty={config.penalty!r} needs config.penalty_weight > 0.')
  _check_penalty_sees_independent_examples(config)


def _check_penalty_sees_independent_examples(config):
  # R1 and WGAN-GP take the gradient of D's summed logits as each example's own gradient, which
  # only holds when D treats the examples of a batch independently (objectives._input_gradients).
  if config.get('penalty', 'none') == 'none':
    return
  d = config.get('discriminator') or {}
  mixing = None
  if config.get('model') == 'dcgan':
    norm = d.get('norm', d.get('normalization', 'batch'))  # models.dcgan's default is BatchNorm
    if norm == 'batch':
      mixing = ("its BatchNorm (discriminator.norm='batch') normalises each example with "
                "statistics of the whole batch; use 'spectral' or 'none'")
  if d.get('minibatch_kernels', 0):
    mixing = ('minibatch discrimination (discriminator.minibatch_kernels > 0) feeds each '
              'example features of the others; set it to 0')
  if mixing:
    raise ValueError(
        f'config.penalty={config.penalty!r} needs a discriminator that scores each example on '
        f'its own: the penalty uses the gradient of the summed logits as per-example gradients, '
        f'but {mixing}, or set config.penalty=\'none\'.')


def _tuples(value):
  if isinstance(value, dict):
    return {k: _tuples(v) for k, v in value.items()}
  if isinstance(value, list):
    return tuple(_tuples(v) for v in value)
  return value


def load_json(path) -> ml_collections.ConfigDict:
  """The config a run wrote to WORKDIR/config.json (JSON lists back to tuples)."""
  if not os.path.exists(path):
    raise FileNotFoundError(f'{path} not found: is this a training workdir?')
  with open(path) as f:
    return ml_collections.ConfigDict(_tuples(json.load(f)))
