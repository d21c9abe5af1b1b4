"""The game contract: what the two players compute; the trainer (steps.py) updates them.

Every game is built the same way, by `games.build`:

  cls(generator, discriminator, objective=..., penalty=..., penalty_weight=...,
      penalty_every=..., g_penalty_every=..., ema_decay=..., source=..., constrain=...,
      **config.game_kw)

The keyword arguments before `**config.game_kw` are the trainer's settings every game receives
(a game ignores those it has no use for); the rest are the game's own settings, whose defaults
are written once, in its constructor's signature (`games.default_kw(name)` reads them).
"""
import abc

import jax
import jax.numpy as jnp

from gan_research import objectives


def identity(x):
  return x


class Game(abc.ABC):
  """Two players' losses, initialisation and sampling. Subclasses implement the abstract methods.

  init(rng, x) -> (g_variables, d_variables, extras)
      The players' Flax variables ({'params': ..., other collections}) for data like x (the
      source's examples, `example_shape`: the answers 'y' of a super-resolution source), and the
      game's own state `extras` (a tracked average w, image pools, ...; {} if none), which the
      TrainState carries and both losses return updated or unchanged.
  d_loss(d_params, d_state, g_params, g_state, extras, batch, rng, regularize,
         grad_into_generator=False) -> (loss, (d_state, extras, metrics))
      D's loss on `batch` ({'x': ...}, two-domain games also 'y'). `regularize` (a traced bool)
      says whether this update adds the lazy regulariser (Karras et al. 2020). G's samples are
      cut from the gradient (D's update never needs it) unless `grad_into_generator`: the
      unrolled G loss (steps.make_unrolled_g_loss) differentiates through D's updates.
  g_loss(g_params, g_state, d_params, d_state, extras, batch, rng, regularize)
      -> (loss, (g_state, extras, metrics))
      G's loss; the trainer differentiates each loss with respect to its first argument.
  sample(g_params, g_state, extras, rng, n, *, ema=False) -> samples [n, *example_shape]
      n samples in inference mode; `ema`: g_params are the trainer's moving average of G's
      weights, not G's own. Games with `generates_classes` also take
      `labels=` (int [n], the class of each sample; None draws them at random).
  discriminate(d_params, d_state, x) -> (logits, d_state)
      D's logits for x in float32 (whatever D computes in: objectives and penalties reduce
      them), in training mode, with D's updated state. x is what D judges: samples for
      noise-to-sample games; see the translation games for theirs.
  needs_labels: bool (class attribute)
      A declared requirement: the game reads class labels (batch['label'], source.labels,
      source.num_classes), so the trainer builds its source with `needs_labels=True` and data
      without labels fails there, saying where labels come from.
  generates_classes: bool (class attribute)
      A declared capability: `sample` takes `labels=` (class-conditional generators), which
      `train.Experiment.make_sampler` and the `cond` evaluator pass.
  translates: bool (class attribute), translate(g_params, g_state, images, direction='G')
      A declared capability: image-to-image games set `translates = True` and map images in
      inference mode; generic code tests `game.translates` before calling `translate`.
  classifies: bool (class attribute), classify(d_params, d_state, extras, x) -> logits [N, K]
      A declared capability: games whose D is a K-class classifier (semi_supervised) set
      `classifies = True` and give D's class logits for x in inference mode; generic code (the
      `ssl` evaluator) tests `game.classifies` before calling `classify`.

  `metrics` are flat name -> scalar dicts ('loss/d', 'd/real_logit', ...).
  """
  needs_labels: bool = False
  generates_classes: bool = False
  translates: bool = False
  classifies: bool = False

  def __init__(self, generator, discriminator, *, objective: str, penalty: str = 'none',
               penalty_weight: float = 0.0, penalty_every: int = 1, g_penalty_every: int = 1,
               ema_decay: float = 0.0, source=None, constrain=identity):
    """The settings every game receives. `constrain` lays out per-example arrays (latents, test
    inputs) like the data; `source` is the data source (games that read it say what)."""
    del g_penalty_every, ema_decay, source  # used by the games that need them
    self.generator, self.discriminator = generator, discriminator
    self.objective = objectives.get_objective(objective)
    self.penalty = objectives.get_penalty(penalty)
    # Lazy regularisation (Karras et al. 2020): applied every k-th update with weight * k.
    self.penalty_scale = penalty_weight * penalty_every
    self.constrain = constrain

  @abc.abstractmethod
  def init(self, rng, x):
    """(g_variables, d_variables, extras) for data like x."""

  @abc.abstractmethod
  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize,
             grad_into_generator=False):
    """(loss, (d_state, extras, metrics)): see the class docstring."""

  @abc.abstractmethod
  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    """(loss, (g_state, extras, metrics)): see the class docstring."""

  @abc.abstractmethod
  def sample(self, g_params, g_state, extras, rng, n, *, ema=False):
    """n samples of G in inference mode: see the class docstring."""

  def discriminate(self, d_params, d_state, x):
    """D's float32 logits for x in training mode, and D's updated state."""
    logits, d_state = apply(self.discriminator, d_params, d_state, x, train=True)
    return logits.astype(jnp.float32), d_state

  def translate(self, g_params, g_state, images, direction='G'):
    """G(images) in inference mode; only games with `translates = True` implement it."""
    del g_params, g_state, images, direction
    raise NotImplementedError(f'{type(self).__name__} does not translate images '
                              '(translates = False).')

  def classify(self, d_params, d_state, extras, x):
    """D's class logits for x; only games with `classifies = True` implement it."""
    del d_params, d_state, extras, x
    raise NotImplementedError(f'{type(self).__name__} does not classify (classifies = False): '
                              'its discriminator has no class logits.')


  def add_penalty(self, loss, metrics, d_fn, *, real, fake, rng, regularize):
    """loss + the D penalty of d_fn (logits of x) on the updates `regularize` marks (lazy
    regularisation: its scale makes up for the skipped ones); the penalty goes in `metrics`."""
    if self.penalty is None:
      return loss
    penalty = jax.lax.cond(regularize, lambda: self.penalty(d_fn, real=real, fake=fake, rng=rng),
                           lambda: jnp.zeros((), real.dtype))
    metrics['loss/d_penalty'] = penalty
    return loss + self.penalty_scale * penalty

def apply(module, params, state, *inputs, train, rng=None):
  """module(*inputs) with its non-trained collections `state`; returns (output, state).

  In training mode the collections (BatchNorm statistics, ...) come back updated; `rng` feeds
  dropout (pix2pix's U-Net) in training mode.
  """
  rngs = {'dropout': rng} if train and rng is not None else None
  variables = {'params': params, **state}
  if train and state:
    return module.apply(variables, *inputs, train=True, mutable=list(state), rngs=rngs)
  return module.apply(variables, *inputs, train=train, rngs=rngs), state
