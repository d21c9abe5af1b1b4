"""G(z) against D(x): DCGAN, the toy MLPs and every noise-to-sample model."""
import jax
import jax.numpy as jnp

from gan_research import models
from gan_research.games import base


class Unconditional(base.Game):
  """G(z) against D(x), with the config's objective and (lazy) D penalty. No settings of its own.

  The source is not read: the latents come from G's own `latent_distribution`.
  """

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
    return base.apply(self.generator, g_params, g_state, z, train=train)

  def sample(self, g_params, g_state, extras, rng, n, *, ema=False):
    """n samples of G, in inference mode, except BatchNorm under EMA weights.

    G's running BatchNorm statistics were measured on its training weights; they do not fit the
    averaged ones (on MNIST a DCGAN's EMA samples scored a worse fid_mnist with them than with
    batch statistics). So EMA weights normalise with the statistics of the samples drawn
    together (the sampler's chunks, the training batch size), as G did in training.
    """
    del extras
    batch_statistics = ema and bool(g_state)
    return self.generate(g_params, g_state, self.latents(rng, n), train=batch_statistics)[0]

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize,
             grad_into_generator=False):
    z_rng, penalty_rng = jax.random.split(rng)
    real = batch['x']
    fake = self._fakes_for_d(g_params, g_state, z_rng, real.shape[0])
    if not grad_into_generator:
      fake = jax.lax.stop_gradient(fake)
    # Real and fake go through D separately, as in the reference DCGAN: each has its own
    # BatchNorm statistics.
    real_logits, d_state = self.discriminate(d_params, d_state, real)
    fake_logits, d_state = self.discriminate(d_params, d_state, fake)
    loss = self.objective.d_loss(real_logits=real_logits, fake_logits=fake_logits)
    metrics = {'loss/d': loss, 'd/real_logit': jnp.mean(real_logits),
               'd/fake_logit': jnp.mean(fake_logits)}
    loss = self.add_penalty(loss, metrics, lambda x: self.discriminate(d_params, d_state, x)[0],
                            real=real, fake=fake, rng=penalty_rng, regularize=regularize)
    return loss, (d_state, extras, metrics)

  def _fakes_for_d(self, g_params, g_state, rng, n):
    """The n generated samples D's update sees (G's own state updates are not kept)."""
    return self.generate(g_params, g_state, self.latents(rng, n), train=True)[0]

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    del regularize  # no generator regulariser in this game
    fake, g_state = self.generate(g_params, g_state, self.latents(rng, batch['x'].shape[0]),
                                  train=True)
    fake_logits, _ = self.discriminate(d_params, d_state, fake)
    loss = self.objective.g_loss(fake_logits=fake_logits)
    return loss, (g_state, extras, {'loss/g': loss})
