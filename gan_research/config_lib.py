"""Config helpers: the fields every experiment shares, `:key=value` arguments, validation, and
loading the config.json of a workdir (old names mapped to today's)."""
import json
import os
from typing import Any, NamedTuple, Optional

import ml_collections
from absl import logging

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
  c.game_kw = ml_collections.ConfigDict()  # the game's own settings; games.default_kw(game)
  c.penalty = 'none'  # 'none', 'gradient_penalty' (WGAN-GP) or 'r1'
  c.penalty_weight = 0.0  # lambda of WGAN-GP, gamma of R1
  c.penalty_every = 1  # discriminator updates between penalties (lazy regularisation)
  c.g_penalty_every = 1  # generator updates between the game's G regulariser (if it has one)
  c.d_weight_clip = 0.0  # WGAN weight clipping of D's parameters; 0 = off
  c.game_kw = ml_collections.ConfigDict()  # settings of games.<game>; empty = its defaults
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
    if config[key] < 1:
      raise ValueError(f'config.{key} must be >= 1; got {config[key]}.')
  if config.num_train_steps < 0:
    raise ValueError(f'config.num_train_steps must be >= 0; got {config.num_train_steps}.')
  if not 0.0 <= config.ema_decay < 1.0:
    raise ValueError(f'config.ema_decay must be in [0, 1); got {config.ema_decay}.')
  if config.compute_dtype not in COMPUTE_DTYPES:
    raise ValueError(f'Unknown config.compute_dtype {config.compute_dtype!r}; valid: '
                     f'{list(COMPUTE_DTYPES)}.')
  compiler.check_cpu_conv_backend(config.cpu_conv_backend)
  if config.unroll_steps < 0:
    raise ValueError(f'config.unroll_steps must be >= 0; got {config.unroll_steps}.')
  if config.batch_size % config.pack:
    raise ValueError(f'config.batch_size={config.batch_size} must be divisible by config.pack='
                     f'{config.pack}: D sees batch_size / pack packed inputs.')
  if config.penalty != 'none' and config.penalty_weight <= 0:
    raise ValueError(f'config.penalty={config.penalty!r} needs config.penalty_weight > 0.')
  _check_penalty_sees_independent_examples(config)


def _check_penalty_sees_independent_examples(config):
  # R1 and WGAN-GP take the gradient of D's summed logits as each example's own gradient, which
  # only holds when D treats the examples of a batch independently (objectives._input_gradients).
  if config.penalty == 'none':
    return
  d = config.discriminator
  mixing = None
  if config.model == 'dcgan':
    norm = d.get('norm', 'batch')  # models.dcgan's default is BatchNorm
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


class Renamed(NamedTuple):
  """A field of older config.json files and where it lives now."""
  old: str  # dotted path in the old file
  new: str  # dotted path today (the same path when only values were renamed)
  values: Optional[dict] = None  # old value -> new value; values not listed are kept
  game: Optional[str] = None  # only runs of this game had it (the game read it)


_CONV_IMPL_VALUES = {'fast': 'custom_vjp'}  # 'fast' was a claim; the name says what it is
_CYCLEGAN_FIELDS = ('cycle_weight', 'identity_weight', 'adversarial_weight', 'pool_size')

# Every rename since config.json files were first written, in the order load_json applies them.
RENAMED = (
    Renamed('generator.transpose_impl', 'generator.conv_impl', _CONV_IMPL_VALUES),  # DCGAN G
    Renamed('generator.transpose_backward', 'generator.conv_backward'),
    Renamed('generator.conv_impl', 'generator.conv_impl', _CONV_IMPL_VALUES),
    Renamed('discriminator.conv_impl', 'discriminator.conv_impl', _CONV_IMPL_VALUES),
    Renamed('discriminator.normalization', 'discriminator.norm'),  # DCGAN's discriminator
    Renamed('generator.batch_norm', 'generator.norm', {True: 'batch', False: 'none'}),  # MLP's
    # The per-game settings each game read from its own top-level fields, now config.game_kw.
    Renamed('stylegan', 'game_kw', game='stylegan'),
    *(Renamed(name, f'game_kw.{name}', game='cyclegan') for name in _CYCLEGAN_FIELDS),
    Renamed('l1_weight', 'game_kw.l1_weight', game='pix2pix'),
)
_MISSING = object()


def _pop(tree: dict, path: str):
  *parents, leaf = path.split('.')
  for key in parents:
    tree = tree.get(key)
    if not isinstance(tree, dict):
      return _MISSING
  return tree.pop(leaf, _MISSING)


def _put(tree: dict, path: str, value: Any, old: str):
  *parents, leaf = path.split('.')
  for key in parents:
    tree = tree.setdefault(key, {})
  if isinstance(value, dict):  # a group of settings moves into a (maybe non-empty) group
    target = tree.setdefault(leaf, {})
    clash = sorted(set(target) & set(value))
    if clash:
      raise ValueError(f'config.json sets {path}.{clash[0]} under both its old name {old} and '
                       f'its new one; keep one.')
    target.update(value)
  elif leaf in tree:
    raise ValueError(f'config.json sets both {old} (an old name) and {path}; keep one.')
  else:
    tree[leaf] = value


def upgrade(raw: dict) -> dict:
  """`raw` (a config.json's dict, changed in place) with the names of RENAMED made today's.

  Logs one deprecation warning per field it renames or re-values; drops (with a warning) the
  top-level settings of a game other than raw['game'], which nothing read.
  """
  game = raw.get('game', 'unconditional')
  for rule in RENAMED:
    value = _pop(raw, rule.old)
    if value is _MISSING:
      continue
    if rule.game is not None and rule.game != game:
      logging.warning('config.json: %s is a setting of the %s game, unused by game %r; dropped.',
                      rule.old, rule.game, game)
      continue
    new_value = rule.values.get(value, value) if rule.values else value
    _put(raw, rule.new, new_value, rule.old)
    if rule.old != rule.new:
      logging.warning('config.json: %s is deprecated; read as %s%s.', rule.old, rule.new,
                      f' = {new_value!r}' if new_value != value else '')
    elif new_value != value:
      logging.warning('config.json: %s=%r is deprecated; read as %r.', rule.old, value, new_value)
  return raw


def _merge(base: dict, override: dict) -> dict:
  """`override` over `base`: groups (dicts) merged key by key, any other value replaced."""
  out = dict(base)
  for key, value in override.items():
    if isinstance(value, dict) and isinstance(out.get(key), dict):
      value = _merge(out[key], value)
    out[key] = value
  return out


def load_json(path) -> ml_collections.ConfigDict:
  """The config a run wrote to WORKDIR/config.json, in today's names and with today's fields.

  Old names are mapped once here (`upgrade`, one deprecation warning each) and the file is
  merged over base_config(), so fields added since the run was started hold their defaults
  and code can read every base_config() field directly. JSON lists come back as tuples.
  """
  if not os.path.exists(path):
    raise FileNotFoundError(f'{path} not found: is this a training workdir?')
  with open(path) as f:
    raw = upgrade(_tuples(json.load(f)))
  return ml_collections.ConfigDict(_merge(base_config().to_dict(), raw))
