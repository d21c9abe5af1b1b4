"""A small MNIST digit classifier for MNIST-specific GAN metrics: network, training, loader.

InceptionV3 features mean little on 28x28 grey digits, so MNIST GAN papers score samples with a
digit classifier instead: its softmax gives the Inception Score and Stacked-MNIST mode counts
(VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018), its penultimate layer the features for
FID/KID/precision-recall. The network is the Flax-examples MNIST CNN (two 3x3 convolutions, here
with max pooling, a 256-unit hidden layer; about 4.6 M multiply-adds per image). Train it with
`python -m gan_research.metrics.train_classifier` (see there), load it with `load_classifier(DIR)`.

Inputs are NHWC float images in [-1, 1], one channel, 28x28. 32x32 images (MNIST padded by 2
background pixels per side, as `data.images.resize` does for image_size=32) are cropped back to
28x28, which exactly undoes that padding; other sizes are resized (bilinear, antialiased), only an
approximation of the inverse of the data pipeline's resize.
"""
import hashlib
import json
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp

from gan_research.data import images as image_data
from gan_research.metrics import batching

INPUT_SIZE = 28  # pixels; what the classifier was trained on
CONFIG_FILE = 'classifier.json'
PARAMS_DIR = 'params'


class DigitCNN(nn.Module):
  """conv3x3(w) - maxpool - conv3x3(2w) - maxpool - dense(hidden) [features] - dense(classes)."""
  width: int = 32
  hidden: int = 256
  num_classes: int = 10

  @nn.compact
  def __call__(self, x):
    """Returns (logits [N, num_classes], features [N, hidden]) for images [N, 28, 28, 1]."""
    x = nn.relu(nn.Conv(self.width, (3, 3))(x))
    x = nn.max_pool(x, (2, 2), strides=(2, 2))
    x = nn.relu(nn.Conv(2 * self.width, (3, 3))(x))
    x = nn.max_pool(x, (2, 2), strides=(2, 2))
    features = nn.relu(nn.Dense(self.hidden)(x.reshape(x.shape[0], -1)))
    return nn.Dense(self.num_classes)(features), features


def to_classifier_input(images) -> jnp.ndarray:
  """Float NHWC images in [-1, 1] of any size -> [N, 28, 28, C] (32 -> crop the 2-pixel pad)."""
  h, w = images.shape[1:3]
  if (h, w) == (INPUT_SIZE, INPUT_SIZE):
    return images
  if (h, w) == (INPUT_SIZE + 4, INPUT_SIZE + 4):
    return images[:, 2:-2, 2:-2, :]
  return jax.image.resize(images, (images.shape[0], INPUT_SIZE, INPUT_SIZE, images.shape[3]),
                          method='linear', antialias=True)


def check_images(images, channels=1) -> np.ndarray:
  """Validates images for the classifier (Stacked MNIST is scored channel by channel by the
  stacked_mnist evaluator); returns float32 numpy NHWC in [-1, 1]."""
  return image_data.check_generated(images, (channels,), 'The digit classifier')


class DigitClassifier:
  """A trained DigitCNN: jitted, batched `features`, `probs` and `features_and_probs`.

  Each call runs in fixed batches of `batch_size` (the last one padded), so one compilation per
  input size serves every N.
  """

  def __init__(self, params, architecture, info=None, batch_size=500):
    self.model = DigitCNN(**architecture)
    self.params = params
    self.architecture = dict(architecture)
    self.info = dict(info or {})
    self.batch_size = batch_size
    self.num_classes = self.model.num_classes
    self.feature_dim = self.model.hidden
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(params):
      digest.update(np.asarray(leaf).tobytes())
    # Names cached real-data features: a retrained classifier never reuses stale ones.
    self.fingerprint = digest.hexdigest()[:12]

    @jax.jit
    def apply(params, x):
      logits, features = self.model.apply(params, to_classifier_input(x))
      return features, jax.nn.softmax(logits)

    self._apply = apply

  def features_and_probs(self, images):
    """(features [N, hidden], probs [N, num_classes]) as float32 numpy, in one pass."""
    features, probs = batching.apply_in_batches(self._apply, self.params, check_images(images),
                                                self.batch_size)
    return features, probs

  def features(self, images) -> np.ndarray:
    """Penultimate-layer activations [N, hidden] of images in [-1, 1]."""
    return self.features_and_probs(images)[0]

  def probs(self, images) -> np.ndarray:
    """Softmax class probabilities [N, num_classes] of images in [-1, 1]."""
    return self.features_and_probs(images)[1]


def train(train_images, train_labels, *, epochs=10, batch_size=128, learning_rate=1e-3,
          max_steps=None, seed=0, architecture=None, log_every=100, log=print,
          epoch_callback=None):
  """Trains a DigitCNN with Adam and a cosine learning-rate decay; returns its params.

  Args:
    train_images: uint8 [N, 28, 28, 1].
    train_labels: int [N].
    epochs: passes over the data (each a fresh seeded permutation).
    max_steps: stop earlier (tests); the decay is stretched over the steps actually run.
    architecture: keyword arguments of DigitCNN.
    epoch_callback: called as epoch_callback(epoch, params) after each full epoch.
  """
  if train_images.dtype != np.uint8 or train_images.shape[1:] != (INPUT_SIZE, INPUT_SIZE, 1):
    raise ValueError(f'Expected uint8 MNIST images [N, 28, 28, 1]; got {train_images.dtype} '
                     f'{train_images.shape}.')
  model = DigitCNN(**(architecture or {}))
  steps_per_epoch = len(train_images) // batch_size
  total = epochs * steps_per_epoch if max_steps is None else min(max_steps,
                                                                 epochs * steps_per_epoch)
  tx = optax.adam(optax.cosine_decay_schedule(learning_rate, max(total, 1)))
  rng = jax.random.key(seed)
  params = model.init(rng, jnp.zeros((1, INPUT_SIZE, INPUT_SIZE, 1)))
  opt_state = tx.init(params)

  @jax.jit
  def step(params, opt_state, images, labels):
    def loss_fn(params):
      logits, _ = model.apply(params, image_data.to_float(images))
      return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  order_rng = np.random.default_rng(seed)
  done, epoch = 0, 0
  while done < total:
    order = order_rng.permutation(len(train_images))
    for i in range(steps_per_epoch):
      if done == total:
        break
      idx = order[i * batch_size:(i + 1) * batch_size]
      params, opt_state, loss = step(params, opt_state, train_images[idx], train_labels[idx])
      done += 1
      if log_every and done % log_every == 0:
        log(f'step {done}/{total}  loss {float(loss):.4f}')
    epoch += 1
    if epoch_callback and done % steps_per_epoch == 0:
      epoch_callback(epoch, params)
  return params


def accuracy(classifier, images_uint8, labels) -> float:
  """Top-1 accuracy of a DigitClassifier on uint8 images."""
  probs = classifier.probs(image_data.to_float(images_uint8))
  return float(np.mean(np.argmax(probs, axis=1) == labels))


def save_classifier(directory, params, architecture, info):
  """Writes DIR/params (Orbax) and DIR/classifier.json (architecture, input size, info)."""
  directory = os.path.abspath(directory)
  os.makedirs(directory, exist_ok=True)
  params_dir = os.path.join(directory, PARAMS_DIR)
  with ocp.StandardCheckpointer() as checkpointer:
    checkpointer.save(params_dir, params, force=True)
    checkpointer.wait_until_finished()
  with open(os.path.join(directory, CONFIG_FILE), 'w') as f:
    json.dump({'architecture': dict(architecture), 'input_size': INPUT_SIZE, **info}, f,
              indent=2)


def load_classifier(path, batch_size=500) -> DigitClassifier:
  """The DigitClassifier saved by `save_classifier` (or this module's CLI) in `path`."""
  path = os.path.abspath(path)
  config_path = os.path.join(path, CONFIG_FILE)
  if not os.path.exists(config_path):
    raise FileNotFoundError(
        f'No digit classifier at {path} (missing {CONFIG_FILE}). Train one with '
        'python -m gan_research.metrics.train_classifier --dataset=mnist '
        f'--data_dir=../shared/data/mnist --out={path}')
  with open(config_path) as f:
    config = json.load(f)
  model = DigitCNN(**config['architecture'])
  abstract = jax.eval_shape(model.init, jax.random.key(0),
                            jnp.zeros((1, INPUT_SIZE, INPUT_SIZE, 1)))
  with ocp.StandardCheckpointer() as checkpointer:
    params = checkpointer.restore(os.path.join(path, PARAMS_DIR), abstract)
  info = {k: v for k, v in config.items() if k != 'architecture'}
  return DigitClassifier(params, config['architecture'], info, batch_size=batch_size)
