"""Class-conditional GANs: G(z, y) against D(x, y), y the class of each example.

How each player uses the label is the model's choice (config.generator.cond and
config.discriminator.cond: conditional BatchNorm or label concatenation in G; projection,
auxiliary classifier or label concatenation in D; see models/dcgan.py). The game feeds real
images their labels and fake ones labels drawn uniformly from the classes, and adds the ACGAN
classification loss (Odena et al. 2017) where D has an auxiliary classifier:
  D: adversarial loss + aux_weight * (CE(C(x_real), y_real) + CE(C(G(z, y)), y)) / 2
  G: adversarial loss + aux_weight * CE(C(G(z, y)), y)
(the paper's L_C, which both players maximise the log-likelihood of; the halving keeps D's term
on the scale of one cross-entropy).
"""
import jax
import jax.numpy as jnp
import optax

from gan_research import packing
from gan_research.games import base
from gan_research.games.unconditional import Unconditional


class Conditional(Unconditional):
  """G(z, y) against D(x, y); `aux_weight` weighs the ACGAN classification loss (if D has one).

  Reads the source: its number of classes must equal the models' `num_classes`, and every example
  must be labelled (a labelled subset, config.data.labels_per_class, is the semi-supervised
  games' setting).
  """
  needs_labels = True
  generates_classes = True

  def __init__(self, generator, discriminator, *, aux_weight: float = 1.0, source=None,
               **trainer_kw):
    super().__init__(generator, discriminator, **trainer_kw)
    if isinstance(discriminator, packing.Packed):
      raise ValueError('The conditional game does not pack its discriminator (D judges each '
                       'image with its own label); set config.pack=1.')
    if source is None or source.num_classes is None:
      raise ValueError('The conditional game needs a labelled data source (mnist, tfds:NAME with '
                       'labels, an image folder with one sub-folder per class).')
    if source.labelled is not None:
      raise ValueError('The conditional game trains on every label; config.data.labels_per_class '
                       'makes a labelled subset, which it does not read. Remove it.')
    for player, module in (('generator', generator), ('discriminator', discriminator)):
      if module.num_classes != source.num_classes:
        raise ValueError(
            f'Labels out of range: the data has {source.num_classes} classes '
            f'(labels 0..{source.num_classes - 1}) but config.{player}.num_classes='
            f'{module.num_classes}. Set config.{player}.num_classes={source.num_classes}.')
    self.num_classes = source.num_classes
    self.aux_weight = aux_weight

  def random_labels(self, rng, n):
    """n labels drawn uniformly from the classes, laid out like the data."""
    return self.constrain(jax.random.randint(rng, (n,), 0, self.num_classes))

  def init(self, rng, x):
    g_rng, d_rng, z_rng = jax.random.split(rng, 3)
    labels = jnp.zeros((x.shape[0],), jnp.int32)
    z = self.latents(z_rng, x.shape[0])
    g_variables = self.generator.init(g_rng, z, labels, train=False)
    d_variables = self.discriminator.init(d_rng, x, labels, train=False)
    return g_variables, d_variables, {}

  def generate(self, g_params, g_state, z, labels, *, train: bool):
    """G(z, labels); in training mode also G's updated BatchNorm statistics."""
    return base.apply(self.generator, g_params, g_state, z, labels, train=train)

  def sample(self, g_params, g_state, extras, rng, n, *, ema=False, labels=None):
    """n samples of the classes `labels` (int [n]; None: drawn uniformly)."""
    del extras
    z_rng, label_rng = jax.random.split(rng)
    labels = self.random_labels(label_rng, n) if labels is None else self.constrain(labels)
    return self.generate_classes(g_params, g_state, self.latents(z_rng, n), labels, ema=ema)

  def generate_classes(self, g_params, g_state, z, labels, *, ema=False):
    """G(z, labels) in inference mode, except BatchNorm under EMA weights.

    As in Unconditional.sample: EMA weights normalise with the statistics of the samples drawn
    together, since G's running statistics were measured on its training weights. Otherwise
    each sample depends only on its own z and label.
    """
    batch_statistics = ema and bool(g_state)
    return self.generate(g_params, g_state, z, labels, train=batch_statistics)[0]

  def discriminate_classes(self, d_params, d_state, x, labels):
    """(logits, class logits or None, d_state): D(x, labels) in float32, in training mode."""
    (logits, class_logits), d_state = base.apply(self.discriminator, d_params, d_state, x,
                                                 labels, train=True)
    if class_logits is not None:
      class_logits = class_logits.astype(jnp.float32)
    return logits.astype(jnp.float32), class_logits, d_state

  def _class_loss(self, class_logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(class_logits, labels).mean()

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize,
             grad_into_generator=False):
    z_rng, label_rng, penalty_rng = jax.random.split(rng, 3)
    real, real_labels = batch['x'], batch['label']
    n = real.shape[0]
    fake_labels = self.random_labels(label_rng, n)
    fake = self.generate(g_params, g_state, self.latents(z_rng, n), fake_labels, train=True)[0]
    if not grad_into_generator:
      fake = jax.lax.stop_gradient(fake)
    real_logits, real_classes, d_state = self.discriminate_classes(d_params, d_state, real,
                                                                   real_labels)
    fake_logits, fake_classes, d_state = self.discriminate_classes(d_params, d_state, fake,
                                                                   fake_labels)
    loss = self.objective.d_loss(real_logits=real_logits, fake_logits=fake_logits)
    metrics = {'loss/d': loss, 'd/real_logit': jnp.mean(real_logits),
               'd/fake_logit': jnp.mean(fake_logits)}
    if real_classes is not None:
      class_loss = 0.5 * (self._class_loss(real_classes, real_labels)
                          + self._class_loss(fake_classes, fake_labels))
      loss = loss + self.aux_weight * class_loss
      metrics['loss/d_class'] = class_loss
      metrics['d/real_class_accuracy'] = jnp.mean(jnp.argmax(real_classes, -1) == real_labels)
    # The penalty's inputs (real, fake, their interpolates) are judged as the real labels.
    d_fn = lambda x: self.discriminate_classes(d_params, d_state, x, real_labels)[0]
    loss = self.add_penalty(loss, metrics, d_fn, real=real, fake=fake, rng=penalty_rng,
                            regularize=regularize)
    return loss, (d_state, extras, metrics)

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    del regularize  # no generator regulariser in this game
    z_rng, label_rng = jax.random.split(rng)
    n = batch['x'].shape[0]
    labels = self.random_labels(label_rng, n)
    fake, g_state = self.generate(g_params, g_state, self.latents(z_rng, n), labels, train=True)
    fake_logits, fake_classes, _ = self.discriminate_classes(d_params, d_state, fake, labels)
    loss = self.objective.g_loss(fake_logits=fake_logits)
    metrics = {'loss/g': loss}
    if fake_classes is not None:
      class_loss = self._class_loss(fake_classes, labels)
      loss = loss + self.aux_weight * class_loss
      metrics['loss/g_class'] = class_loss
    return loss, (g_state, extras, metrics)
