"""The semi-supervised GAN of Salimans et al. 2016 (section 5): D is a K-class classifier.

D's K class logits l(x) give its real/fake logit log sum_k exp(l_k(x)) (a K+1-th "fake" class
with its logit fixed at 0), so one network is both the GAN's discriminator and the classifier
that the few labels train. G plays feature matching (section 3.1) against D's last hidden layer.
"""
import jax
import jax.numpy as jnp

from gan_research import models, objectives
from gan_research.games import base

# The labelled part of a batch (data.source.Source: a source with a labelled subset adds it).
LABELLED_KEYS = ('labelled_x', 'labelled_label')


class SemiSupervised(base.Game):
  """Supervised cross-entropy on the labelled batch, the real/fake terms on the unlabelled one.

  D's loss, as in the authors' code (openai/improved-gan, train_mnist_feature_matching.py):
    loss_lab = mean(logsumexp(l(x_lab)) - l_y(x_lab))             (softmax cross-entropy)
    loss_unl = 1/2 objective.d_loss(real=logsumexp(l(x)), fake=logsumexp(l(G(z))))
    loss = loss_lab + unlabelled_weight * loss_unl
  with the non-saturating objective, loss_unl is the authors' -1/2 E log D(x) - 1/2 E log(1 -
  D(G(z))). G's loss is feature matching: the mean squared difference between the batch means of
  D's last hidden layer (the model sows it as intermediates/features) on x and on G(z), both
  with D's training noise. `unlabelled_weight=0` is the supervised-only baseline: D sees the
  labelled batch alone, and G takes no part (its loss is 0).

  D's weight-normalised layers are initialised from the data (Salimans & Kingma 2016): `init`
  runs D on the first `init_examples` examples of the source's batch of step 0, whatever x it is
  given. extras = {'d_average': an exponential moving average of D's parameters, decay
  `d_average_decay`} (the authors evaluate a running average of D; {} when the decay is 0); the
  classifier the evaluator scores (`classify`) uses it.

  Batches: {'x': all examples (the unlabelled data), 'labelled_x', 'labelled_label'}: a source
  with config.data.labels_per_class adds the labelled batch.
  """
  needs_labels = True
  classifies = True

  def __init__(self, generator, discriminator, *, objective: str = 'nonsaturating',
               penalty: str = 'none', penalty_weight: float = 0.0, penalty_every: int = 1,
               g_penalty_every: int = 1, ema_decay: float = 0.0, source=None,
               constrain=base.identity, unlabelled_weight: float = 1.0,
               init_examples: int = 500, d_average_decay: float = 0.999):
    super().__init__(generator, discriminator, objective=objective, penalty=penalty,
                     penalty_weight=penalty_weight, penalty_every=penalty_every,
                     constrain=constrain)
    del g_penalty_every, ema_decay
    if self.penalty is not None:
      raise ValueError(f'The semi_supervised game takes no D penalty (config.penalty='
                       f'{penalty!r}); set config.penalty=\'none\'.')
    if source is None or source.labelled is None:
      raise ValueError('The semi_supervised game needs a labelled subset of the data: set '
                       'config.data.labels_per_class (e.g. 10 for 100 MNIST labels) on a '
                       'labelled dataset (mnist, tfds:NAME with labels, image_folder with one '
                       'sub-folder per class).')
    if unlabelled_weight < 0 or init_examples < 2 or not 0.0 <= d_average_decay < 1.0:
      raise ValueError(f'semi_supervised needs unlabelled_weight >= 0, init_examples >= 2 and '
                       f'd_average_decay in [0, 1); got {unlabelled_weight}, {init_examples}, '
                       f'{d_average_decay}.')
    self.unlabelled_weight, self.d_average_decay = unlabelled_weight, d_average_decay
    # A constant of the traced init: the examples D's data-dependent initialisation sees.
    self.init_data = source.get_batch(0, d_steps=1, batch_size=init_examples)['x'][0]

  # --- the players ---------------------------------------------------------------------------

  def latents(self, rng, n):
    z = models.sample_latent(rng, (n, self.generator.latent_dim),
                             self.generator.latent_distribution)
    return self.constrain(z)

  def generate(self, g_params, g_state, rng, n):
    """n samples of G (batch statistics; G has no state of its own to update)."""
    return base.apply(self.generator, g_params, g_state, self.latents(rng, n), train=True)[0]

  def class_logits(self, d_params, d_state, x, rng):
    """(D's class logits [N, K] in training mode (noise from rng), its last hidden layer)."""
    logits, sown = self.discriminator.apply({'params': d_params, **d_state}, x, train=True,
                                            rngs={'noise': rng}, mutable=['intermediates'])
    features = sown['intermediates']['features'][0]
    return logits.astype(jnp.float32), features

  # --- the contract --------------------------------------------------------------------------

  def init(self, rng, x):
    g_rng, d_rng, noise_rng, z_rng = jax.random.split(rng, 4)
    g_variables = self.generator.init(g_rng, self.latents(z_rng, x.shape[0]), train=False)
    d_variables = self.discriminator.init({'params': d_rng, 'noise': noise_rng},
                                          jnp.asarray(self.init_data), train=True)
    d_variables = {k: v for k, v in d_variables.items() if k != 'intermediates'}
    extras = {}
    if self.d_average_decay:
      extras['d_average'] = jax.tree.map(jnp.copy, d_variables['params'])
    return g_variables, d_variables, extras

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize,
             grad_into_generator=False):
    del regularize  # no D penalty in this game
    missing = [k for k in LABELLED_KEYS if k not in batch]
    if missing:
      raise ValueError(f'semi_supervised batches need {list(LABELLED_KEYS)}; missing {missing}: '
                       'set config.data.labels_per_class.')
    noise_rng, z_rng = jax.random.split(rng)
    labels, n = batch['labelled_label'], batch['labelled_x'].shape[0]
    judged = [batch['labelled_x']]
    if self.unlabelled_weight:
      fake = self.generate(g_params, g_state, z_rng, batch['x'].shape[0])
      if not grad_into_generator:
        fake = jax.lax.stop_gradient(fake)
      judged += [batch['x'], fake.astype(batch['x'].dtype)]
    # One pass over labelled, unlabelled and generated examples: D treats examples
    # independently (no batch statistics), so this equals three passes, with larger matmuls.
    logits = self.class_logits(d_params, d_state, jnp.concatenate(judged), noise_rng)[0]
    lab_logits = logits[:n]
    supervised = objectives.classification_loss(lab_logits, labels)
    metrics = {'loss/d_supervised': supervised,
               'd/train_error': jnp.mean(jnp.argmax(lab_logits, -1) != labels),
               'd/real_logit': jnp.mean(objectives.class_logsumexp(lab_logits))}
    loss = supervised
    if self.unlabelled_weight:
      real_logits, fake_logits = jnp.split(objectives.class_logsumexp(logits[n:]), 2)
      unsupervised = 0.5 * self.objective.d_loss(real_logits=real_logits,
                                                 fake_logits=fake_logits)
      loss = loss + self.unlabelled_weight * unsupervised
      metrics.update({'loss/d_unsupervised': unsupervised,
                      'd/real_logit': jnp.mean(real_logits),
                      'd/fake_logit': jnp.mean(fake_logits)})
    metrics['loss/d'] = loss
    if self.d_average_decay:
      decay = self.d_average_decay
      extras = {**extras, 'd_average': jax.tree.map(
          lambda a, p: decay * a + (1.0 - decay) * jax.lax.stop_gradient(p),
          extras['d_average'], d_params)}
    return loss, (d_state, extras, metrics)

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    del regularize
    if not self.unlabelled_weight:  # the supervised baseline: G is not in the game
      zero = jnp.zeros((), jnp.float32)
      return zero, (g_state, extras, {'loss/g': zero})
    noise_rng, z_rng = jax.random.split(rng)
    real = batch['x']
    fake = self.generate(g_params, g_state, z_rng, real.shape[0])
    _, features = self.class_logits(d_params, d_state,
                                    jnp.concatenate([real, fake.astype(real.dtype)]), noise_rng)
    real_features, fake_features = jnp.split(features, 2)
    loss = objectives.feature_matching_loss(jax.lax.stop_gradient(real_features), fake_features)
    return loss, (g_state, extras, {'loss/g': loss})

  def sample(self, g_params, g_state, extras, rng, n, *, ema=False):
    del extras, ema  # batch statistics always: G has no running averages
    return self.generate(g_params, g_state, rng, n)

  def discriminate(self, d_params, d_state, x):
    """D's real/fake logit log sum_k exp(l_k(x)). D's noise needs a key, which this contract
    does not give, so x is judged without it (D's inference mode)."""
    logits = self.discriminator.apply({'params': d_params, **d_state}, x, train=False)
    return objectives.class_logsumexp(logits), d_state

  def classify(self, d_params, d_state, extras, x):
    """D's class logits [N, K] for x in inference mode, from the average of D's weights where
    the game keeps one."""
    params = extras.get('d_average', d_params)
    return self.discriminator.apply({'params': params, **d_state}, x,
                                    train=False).astype(jnp.float32)
