"""Games: what the two players compute. The trainer (steps.py) owns how they are updated.

A game is built by `from_config(config, generator, discriminator, constrain)` and gives:

  init(rng, x) -> (g_variables, d_variables, extras)
  d_loss(d_params, d_state, g_params, g_state, extras, batch, rng, regularize)
      -> (loss, (new_d_state, new_extras, metrics))
  g_loss(g_params, g_state, d_params, d_state, extras, batch, rng, regularize)
      -> (loss, (new_g_state, new_extras, metrics))
  sample(g_params, g_state, extras, rng, n) -> samples [n, *example_shape]

The trainer differentiates each loss with respect to its first argument. `regularize` (a traced
bool) says whether this update adds the lazy regulariser (Karras et al. 2020). `extras` is the
game's own state (a tracked average w, an image pool, ...), carried in the TrainState; a loss
returns it updated, or unchanged. New families (image-to-image, ...) add a class here, not a
trainer.
"""
import jax
import jax.numpy as jnp

from gan_research import models, objectives


class Unconditional:
  """G(z) against D(x): DCGAN, the toy MLPs and every noise-to-sample model."""
  # d_loss stops the gradient into G's samples (D's update never needs it); the unrolled G loss
  # (steps.make_unrolled_g_loss) turns it on in its copy of the game to differentiate through D.
  differentiable_fakes = False

  def __init__(self, generator, discriminator, *, objective: str, penalty: str = 'none',
               penalty_weight: float = 0.0, penalty_every: int = 1, constrain=lambda x: x):
    self.generator, self.discriminator = generator, discriminator
    self.objective = objectives.get_objective(objective)
    self.penalty = objectives.get_penalty(penalty)
    # Lazy regularisation (Karras et al. 2020): applied every k-th update with weight * k.
    self.penalty_scale = penalty_weight * penalty_every
    self.constrain = constrain  # lays out per-example arrays (latents) like the data

  @classmethod
  def from_config(cls, config, generator, discriminator, constrain=lambda x: x):
    return cls(generator, discriminator, objective=config.objective, penalty=config.penalty,
               penalty_weight=config.penalty_weight, penalty_every=config.penalty_every,
               constrain=constrain)

  def latents(self, rng, n):
    z = models.sample_latent(rng, (n, self.generator.latent_dim),
                             self.generator.latent_distribution)
    return self.constrain(z)

  def init(self, rng, x):
    g_rng, d_rng, z_rng = jax.random.split(rng, 3)
    z = self.latents(z_rng, x.shape[0])
    g_variables = self.generator.init(g_rng, z, train=False)
    d_variables = self.discriminator.init(d_rng, x, train=False)
    return g_variables, d_variables, {}

  def generate(self, g_params, g_state, z, *, train: bool):
    """Samples from G; in training mode also returns G's updated BatchNorm statistics."""
    if train and g_state:
      return self.generator.apply({'params': g_params, **g_state}, z, train=True,
                                  mutable=list(g_state))
    return self.generator.apply({'params': g_params, **g_state}, z, train=train), g_state

  def sample(self, g_params, g_state, extras, rng, n):
    del extras
    return self.generate(g_params, g_state, self.latents(rng, n), train=False)[0]

  def _discriminate(self, d_params, d_state, x):
    """D's logits, in float32 whatever D computes in: objectives and penalties reduce them."""
    if d_state:
      logits, d_state = self.discriminator.apply({'params': d_params, **d_state}, x, train=True,
                                                 mutable=list(d_state))
    else:
      logits = self.discriminator.apply({'params': d_params}, x, train=True)
    return logits.astype(jnp.float32), d_state

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize):
    z_rng, penalty_rng = jax.random.split(rng)
    real = batch['x']
    fake, _ = self.generate(g_params, g_state, self.latents(z_rng, real.shape[0]), train=True)
    if not self.differentiable_fakes:
      fake = jax.lax.stop_gradient(fake)
    # Real and fake go through D separately, as in the reference DCGAN: each has its own
    # BatchNorm statistics.
    real_logits, d_state = self._discriminate(d_params, d_state, real)
    fake_logits, d_state = self._discriminate(d_params, d_state, fake)
    loss = self.objective.d_loss(real_logits=real_logits, fake_logits=fake_logits)
    metrics = {'loss/d': loss, 'd/real_logit': jnp.mean(real_logits),
               'd/fake_logit': jnp.mean(fake_logits)}
    if self.penalty is not None:
      d_fn = lambda x: self._discriminate(d_params, d_state, x)[0]
      penalty = jax.lax.cond(
          regularize, lambda: self.penalty(d_fn, real=real, fake=fake, rng=penalty_rng),
          lambda: jnp.zeros((), real.dtype))
      loss = loss + self.penalty_scale * penalty
      metrics['loss/d_penalty'] = penalty
    return loss, (d_state, extras, metrics)

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    del regularize  # no generator regulariser in this game
    fake, g_state = self.generate(g_params, g_state, self.latents(rng, batch['x'].shape[0]),
                                  train=True)
    fake_logits, _ = self._discriminate(d_params, d_state, fake)
    loss = self.objective.g_loss(fake_logits=fake_logits)
    return loss, (g_state, extras, {'loss/g': loss})


GAMES = {'unconditional': Unconditional}


def get_game(name: str):
  if name not in GAMES:
    raise ValueError(f'Unknown game {name!r}; valid games: {sorted(GAMES)}.')
  return GAMES[name]


def build(config, generator, discriminator, constrain=lambda x: x):
  """The game `config.game`, with its settings read from the config."""
  return get_game(config.game).from_config(config, generator, discriminator, constrain)
