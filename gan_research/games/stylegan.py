"""StyleGAN2's game (Karras et al. 2020)."""
import jax
import jax.numpy as jnp

from gan_research import objectives
from gan_research.games import base
from gan_research.games.unconditional import Unconditional
from gan_research.models import stylegan as stylegan_models


class StyleGAN(Unconditional):
  """Non-saturating logistic loss, lazy R1 on reals for D, and for G style mixing, lazy
  path-length regularisation and the tracked average w.

  extras = {'w_avg': [w_dim] running mean of w (decay w_avg_decay, one update per G step),
            'pl_mean': the running mean path length a (decay pl_decay)}.
  R1 is the config's `penalty='r1'` with `penalty_weight` = gamma every `penalty_every` D updates;
  the path-length penalty runs every `g_penalty_every` G updates with weight pl_weight * k.
  Settings (config.game_kw): pl_weight, pl_decay, pl_batch_shrink (the path-length batch is
  batch / pl_batch_shrink), style_mixing_prob, w_avg_decay, truncation_psi (of samples).
  """

  def __init__(self, generator, discriminator, *, objective: str = 'nonsaturating',
               penalty: str = 'r1', penalty_weight: float = 0.0, penalty_every: int = 16,
               g_penalty_every: int = 4, ema_decay: float = 0.0, source=None,
               constrain=base.identity, pl_weight: float = 2.0, pl_decay: float = 0.01,
               pl_batch_shrink: int = 2, style_mixing_prob: float = 0.9,
               w_avg_decay: float = 0.995, truncation_psi: float = 1.0):
    super().__init__(generator, discriminator, objective=objective, penalty=penalty,
                     penalty_weight=penalty_weight, penalty_every=penalty_every,
                     ema_decay=ema_decay, source=source, constrain=constrain)
    if not 0.0 <= style_mixing_prob <= 1.0:
      raise ValueError(f'style_mixing_prob must be in [0, 1]; got {style_mixing_prob}.')
    if pl_batch_shrink < 1 or pl_weight < 0:
      raise ValueError(f'pl_batch_shrink must be >= 1 and pl_weight >= 0; got {pl_batch_shrink}, '
                       f'{pl_weight}.')
    # Lazy regularisation: every k-th update, weight * k.
    self.pl_scale = pl_weight * g_penalty_every
    self.pl_decay, self.pl_batch_shrink = pl_decay, pl_batch_shrink
    self.style_mixing_prob, self.w_avg_decay = style_mixing_prob, w_avg_decay
    self.truncation_psi = truncation_psi
    self.num_ws = stylegan_models.num_ws(generator.output_shape[0])

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
      ws = stylegan_models.mix_styles(ws, self.mapping(g_params, self.latents(mix_rng, n)),
                                      cutoff)
    return ws

  def sample(self, g_params, g_state, extras, rng, n, *, ema=False):
    del ema  # no BatchNorm in StyleGAN's generator: EMA weights need nothing else
    z_rng, noise_rng = jax.random.split(rng)
    return self.generator.apply({'params': g_params, **g_state}, self.latents(z_rng, n),
                                train=False, w_avg=extras['w_avg'], psi=self.truncation_psi,
                                rngs={'noise': noise_rng})

  def _fakes_for_d(self, g_params, g_state, rng, n):
    """D's update sees style-mixed samples, as in the official training loop."""
    del g_state
    ws_rng, noise_rng = jax.random.split(rng)
    return self.synthesis(g_params, self.mixed_ws(g_params, ws_rng, n), noise_rng)

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    ws_rng, noise_rng, pl_rng = jax.random.split(rng, 3)
    n = batch['x'].shape[0]
    ws = self.mixed_ws(g_params, ws_rng, n)
    fake = self.synthesis(g_params, ws, noise_rng)
    fake_logits, _ = self.discriminate(d_params, d_state, fake)
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
