"""Super-resolution as a paired game (SRGAN, Ledig et al. 2017): G maps the low-resolution input
to the high-resolution image; D judges high-resolution images alone.

G's loss is the content loss, the pixel MSE on images in [-1, 1] (the paper's SRResNet-MSE and
SRGAN-MSE), plus `adversarial_weight` (1e-3 in the paper) times the objective's generator loss on
D(G(x)). With adversarial_weight = 0 the game is SRResNet: D's loss is then a constant, so D
takes zero gradients (Adam moves nothing) and costs no computation.

The paper's best perceptual variant replaces the pixel MSE by a distance between VGG19 features
(ImageNet weights): no network of the project is trained on natural images' textures (the digit
classifier knows 28x28 digits; the FID Inception is our metric, and a loss that optimises the
metric's own features would inflate it), so the content loss here is the pixel MSE only.
"""
import jax
import jax.numpy as jnp

from gan_research.games import base
from gan_research.games.translation import Translation


class SuperResolution(Translation):
  """Batches {'x': low resolution, 'y': high resolution} (data/superres.py); samples are G's
  outputs for the source's held-out inputs. Settings (config.game_kw): adversarial_weight."""
  num_fixed_inputs = None  # every held-out input: the realism metrics sample from all of them

  def __init__(self, generator, discriminator, *, objective='nonsaturating', penalty='none',
               penalty_weight=0.0, penalty_every=1, g_penalty_every=1, ema_decay=0.0,
               source=None, constrain=base.identity, adversarial_weight=1e-3):
    if source is None or source.scale is None:
      raise ValueError('The superres game needs a super-resolution dataset (superres_mnist, '
                       "superres_folder): its batches pair each input 'x' with its answer 'y'.")
    super().__init__(generator, discriminator, objective=objective, penalty=penalty,
                     penalty_weight=penalty_weight, penalty_every=penalty_every,
                     g_penalty_every=g_penalty_every, ema_decay=ema_decay, source=source,
                     constrain=constrain)
    if adversarial_weight < 0:
      raise ValueError(f'adversarial_weight must be >= 0; got {adversarial_weight}.')
    if source.scale != generator.scale:
      raise ValueError(f'The data are made at scale {source.scale} (config.data.scale) but the '
                       f'generator upsamples by {generator.scale} (config.generator.scale); set '
                       'both to the same factor.')
    self.adversarial_weight = adversarial_weight

  def init(self, rng, x):
    """x: high-resolution images [N, H, W, C]; G is built for inputs `scale` times smaller."""
    g_rng, d_rng = jax.random.split(rng)
    n, h, w, c = x.shape
    low = jnp.zeros((n, h // self.generator.scale, w // self.generator.scale, c), x.dtype)
    return (self.generator.init(g_rng, low, train=False),
            self.discriminator.init(d_rng, x, train=False), {})

  def translate(self, g_params, g_state, images, direction='G'):
    """G(low-resolution images) in inference mode."""
    if direction != 'G':
      raise ValueError(f"super-resolution has one generator: direction must be 'G'; got "
                       f'{direction!r}.')
    return base.apply(self.generator, g_params, g_state, images, train=False)[0]

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize,
             grad_into_generator=False):
    del regularize, rng
    if not self.adversarial_weight:
      zero = jnp.zeros((), jnp.float32)
      return zero, (d_state, extras, {'loss/d': zero, 'd/real_logit': zero,
                                      'd/fake_logit': zero})
    fake = base.apply(self.generator, g_params, g_state, batch['x'], train=True)[0]
    if not grad_into_generator:
      fake = jax.lax.stop_gradient(fake)
    real_logits, d_state = self.discriminate(d_params, d_state, batch['y'])
    fake_logits, d_state = self.discriminate(d_params, d_state, fake.astype(batch['y'].dtype))
    loss = self.objective.d_loss(real_logits=real_logits, fake_logits=fake_logits)
    return loss, (d_state, extras, {'loss/d': loss, 'd/real_logit': jnp.mean(real_logits),
                                    'd/fake_logit': jnp.mean(fake_logits)})

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    del regularize, rng
    fake, g_state = base.apply(self.generator, g_params, g_state, batch['x'], train=True)
    content = jnp.mean(jnp.square(fake.astype(jnp.float32) - batch['y']))
    metrics = {'loss/content': content}
    loss = content
    if self.adversarial_weight:
      logits, _ = self.discriminate(d_params, d_state, fake.astype(batch['y'].dtype))
      adversarial = self.objective.g_loss(fake_logits=logits)
      loss = content + self.adversarial_weight * adversarial
      metrics['loss/g_adversarial'] = adversarial
    metrics['loss/g'] = loss
    return loss, (g_state, extras, metrics)
