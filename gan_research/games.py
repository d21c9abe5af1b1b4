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


class StyleGAN(Unconditional):
  """StyleGAN2's game (Karras et al. 2020): non-saturating logistic loss, lazy R1 on reals for
  D, and for G style mixing, lazy path-length regularisation and the tracked average w.

  extras = {'w_avg': [w_dim] running mean of w (decay w_avg_decay, one update per G step),
            'pl_mean': the running mean path length a (decay pl_decay)}.
  R1 is the config's `penalty='r1'` with `penalty_weight` = gamma every `penalty_every` D updates;
  the path-length penalty runs every `g_penalty_every` G updates with weight pl_weight * k.
  """

  def __init__(self, generator, discriminator, *, objective: str = 'nonsaturating',
               penalty: str = 'r1', penalty_weight: float = 0.0, penalty_every: int = 16,
               pl_weight: float = 2.0, pl_every: int = 4, pl_decay: float = 0.01,
               pl_batch_shrink: int = 2, style_mixing_prob: float = 0.9,
               w_avg_decay: float = 0.995, truncation_psi: float = 1.0, constrain=lambda x: x):
    super().__init__(generator, discriminator, objective=objective, penalty=penalty,
                     penalty_weight=penalty_weight, penalty_every=penalty_every,
                     constrain=constrain)
    if not 0.0 <= style_mixing_prob <= 1.0:
      raise ValueError(f'style_mixing_prob must be in [0, 1]; got {style_mixing_prob}.')
    if pl_batch_shrink < 1 or pl_weight < 0:
      raise ValueError(f'pl_batch_shrink must be >= 1 and pl_weight >= 0; got {pl_batch_shrink}, '
                       f'{pl_weight}.')
    self.pl_scale = pl_weight * pl_every  # lazy regularisation: every k-th update, weight * k
    self.pl_decay, self.pl_batch_shrink = pl_decay, pl_batch_shrink
    self.style_mixing_prob, self.w_avg_decay = style_mixing_prob, w_avg_decay
    self.truncation_psi = truncation_psi
    self.num_ws = stylegan_models().num_ws(generator.output_shape[0])

  @classmethod
  def from_config(cls, config, generator, discriminator, constrain=lambda x: x):
    return cls(generator, discriminator, objective=config.objective, penalty=config.penalty,
               penalty_weight=config.penalty_weight, penalty_every=config.penalty_every,
               pl_every=config.g_penalty_every, constrain=constrain,
               **config.get('stylegan', {}))

  def init(self, rng, x):
    g_variables, d_variables, _ = super().init(rng, x)
    extras = {'w_avg': jnp.zeros((self.generator.w_dim,), jnp.float32),
              'pl_mean': jnp.zeros((), jnp.float32)}
    return g_variables, d_variables, extras

  def mapping(self, g_params, z, **kwargs):
    return self.generator.apply({'params': g_params}, z, method='mapping', **kwargs)

  def synthesis(self, g_params, ws, rng, **kwargs):
    return self.generator.apply({'params': g_params}, ws, method='synthesis',
                                rngs={'noise': rng}, **kwargs)

  def mixed_ws(self, g_params, rng, n):
    """ws of n latents; with probability style_mixing_prob a sample takes a second latent's w
    from a crossover layer drawn uniformly from 1 .. num_ws - 1."""
    z_rng, mix_rng, cut_rng, p_rng = jax.random.split(rng, 4)
    ws = self.mapping(g_params, self.latents(z_rng, n))
    if self.style_mixing_prob > 0 and self.num_ws > 1:
      cutoff = jax.random.randint(cut_rng, (n,), 1, self.num_ws)
      mix = jax.random.uniform(p_rng, (n,)) < self.style_mixing_prob
      cutoff = self.constrain(jnp.where(mix, cutoff, self.num_ws))
      ws = stylegan_models().mix_styles(ws, self.mapping(g_params, self.latents(mix_rng, n)),
                                        cutoff)
    return ws

  def sample(self, g_params, g_state, extras, rng, n):
    z_rng, noise_rng = jax.random.split(rng)
    return self.generator.apply({'params': g_params, **g_state}, self.latents(z_rng, n),
                                train=False, w_avg=extras['w_avg'], psi=self.truncation_psi,
                                rngs={'noise': noise_rng})

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize):
    ws_rng, noise_rng, penalty_rng = jax.random.split(rng, 3)
    real = batch['x']
    ws = self.mixed_ws(g_params, ws_rng, real.shape[0])
    fake = jax.lax.stop_gradient(self.synthesis(g_params, ws, noise_rng))
    real_logits, d_state = self._discriminate(d_params, d_state, real)
    fake_logits, d_state = self._discriminate(d_params, d_state, fake)
    loss = self.objective.d_loss(real_logits=real_logits, fake_logits=fake_logits)
    metrics = {'loss/d': loss, 'd/real_logit': jnp.mean(real_logits),
               'd/fake_logit': jnp.mean(fake_logits)}
    if self.penalty is not None:
      d_fn = lambda x: self._discriminate(d_params, d_state, x)[0]
      penalty = jax.lax.cond(
          regularize, lambda: self.penalty(d_fn, real=real, fake=fake, rng=penalty_rng),
          lambda: jnp.zeros((), jnp.float32))
      loss = loss + self.penalty_scale * penalty
      metrics['loss/d_penalty'] = penalty
    return loss, (d_state, extras, metrics)

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    ws_rng, noise_rng, pl_rng = jax.random.split(rng, 3)
    n = batch['x'].shape[0]
    ws = self.mixed_ws(g_params, ws_rng, n)
    fake = self.synthesis(g_params, ws, noise_rng)
    fake_logits, _ = self._discriminate(d_params, d_state, fake)
    loss = self.objective.g_loss(fake_logits=fake_logits)
    metrics = {'loss/g': loss}
    # The tracked average w (truncation's centre): ws[:, 0] is the unmixed w of each sample.
    w_mean = jax.lax.stop_gradient(jnp.mean(ws[:, 0], axis=0))
    w_avg = self.w_avg_decay * extras['w_avg'] + (1.0 - self.w_avg_decay) * w_mean
    pl_mean = extras['pl_mean']
    if self.pl_scale > 0:
      synth = lambda ws, rng: self.synthesis(g_params, ws, rng)
      penalty, pl_mean = jax.lax.cond(
          regularize,
          lambda: objectives.path_length_penalty(
              synth, self.mixed_ws(g_params, pl_rng, max(n // self.pl_batch_shrink, 1)),
              extras['pl_mean'], jax.random.fold_in(pl_rng, 1), decay=self.pl_decay),
          lambda: (jnp.zeros((), jnp.float32), extras['pl_mean']))
      loss = loss + self.pl_scale * penalty
      metrics['loss/g_path_length'] = penalty
      metrics['g/pl_mean'] = pl_mean
    return loss, (g_state, {'w_avg': w_avg, 'pl_mean': pl_mean}, metrics)


def stylegan_models():
  # Imported here, not at the top: only this game needs it.
  from gan_research.models import stylegan
  return stylegan


GAMES = {'unconditional': Unconditional, 'stylegan': StyleGAN}


def get_game(name: str):
  if name not in GAMES:
    raise ValueError(f'Unknown game {name!r}; valid games: {sorted(GAMES)}.')
  return GAMES[name]


def build(config, generator, discriminator, constrain=lambda x: x):
  """The game `config.game`, with its settings read from the config."""
  return get_game(config.game).from_config(config, generator, discriminator, constrain)
