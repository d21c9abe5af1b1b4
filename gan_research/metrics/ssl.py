"""`ssl`: the test error of a semi-supervised GAN's discriminator used as a classifier."""
import jax
import numpy as np

from gan_research import data
from gan_research.metrics.base import Evaluator


def error_percent(logits, labels) -> float:
  """100 * the fraction of examples whose largest logit is not their label's."""
  logits, labels = np.asarray(logits), np.asarray(labels)
  if logits.ndim != 2 or labels.shape != logits.shape[:1]:
    raise ValueError(f'Expected logits [N, K] and labels [N]; got {logits.shape}, '
                     f'{labels.shape}.')
  return float(100.0 * np.mean(np.argmax(logits, axis=-1) != labels))


class SSLEvaluator(Evaluator):
  """ssl/test_error: % of the test split's images that D (game.classify) labels wrongly.

  The test split is the run's dataset read with split='test' (all of it: 10,000 images for
  MNIST), in batches of `batch_size` (eval config, default 1000).
  """

  def __init__(self, eval_config, source, workdir=None):
    del workdir
    if source is not None and source.labels is None:
      raise ValueError('The `ssl` evaluator needs a labelled dataset (mnist, tfds:NAME with '
                       'labels, image_folder with one sub-folder per class).')
    self.batch_size = int(eval_config.get('batch_size', 1000))
    self._test = None
    self._classify = None

  def test_split(self, config):
    """(float images [M, ...] in [-1, 1], labels [M]) of the test split, read once."""
    if self._test is None:
      test = data.get_source(config, split='test')
      if test.labels is None:
        raise ValueError(f'The `ssl` evaluator needs test labels; dataset {config.dataset!r} '
                         'has none in its test split.')
      self._test = (data.images.to_float(test.images), test.labels)
    return self._test

  def __call__(self, ctx):
    game = ctx.experiment.game
    if not game.classifies:
      raise ValueError(f'The `ssl` evaluator needs a game whose discriminator classifies '
                       f'(semi_supervised); config.game={ctx.experiment.config.game!r} does not.')
    images, labels = self.test_split(ctx.experiment.config)
    if self._classify is None:
      self._classify = jax.jit(game.classify)
    d = ctx.state.d
    logits = np.concatenate([
        jax.device_get(self._classify(d.params, d.state, ctx.state.extras,
                                      images[i:i + self.batch_size]))
        for i in range(0, len(images), self.batch_size)])
    return {'ssl/test_error': error_percent(logits, labels)}
