"""Sample-based evaluators: fid, kid, is, pr (on extractor features) and stacked_mnist.

Configured as `config.evals.<name> = dict(every_steps=..., num_samples=..., extractor='fid_mnist',
classifier_path=...)` (or `extractor='fid_inception', inception_weights=PATH`), plus optionally
`reference_split` ('test'), `num_reference` (defaults to num_samples) and the reference's
`dataset`/`data_dir`/`image_size` (default: the run's config).

Metric names are `<evaluator>/<extractor>` for a single number and
`<evaluator>/<extractor>_<statistic>` otherwise, so values from different feature networks never
share a name:
    fid/fid_mnist
    kid/fid_mnist_mean, kid/fid_mnist_std          (Binkowski et al. 2018; 100 subsets of 1000)
    is/fid_mnist_mean, is/fid_mnist_std            (Salimans et al. 2016; 10 splits)
    pr/fid_mnist_precision, pr/fid_mnist_recall    (Kynkaanniemi et al. 2019; k = 3)
    stacked_mnist/modes, stacked_mnist/kl          (VEEGAN / PacGAN; 26,000 samples; the
                                                   digit classifier's fingerprint names which
                                                   classifier counted, as with fid_mnist)

Reference values with the 10-epoch classifier of train_classifier.py (99.26%; fid_mnist, real vs
real: the floor a perfect generator would reach): FID(MNIST train first 10k, test 10k) = 5.95;
KID = 0.93 +- 1.24 (zero within noise: unnormalised ReLU features give kernel values of ~10^3);
precision/recall = 0.87 / 0.85; IS(test 10k) = 9.84 +- 0.07. With a 3-epoch one (99.01%): FID
2.00, KID 0.17 +- 0.34, precision/recall 0.87 / 0.87, IS 9.63 +- 0.14. Values are comparable only
between evaluations with the same classifier; `evaluate` prints its fingerprint with them.

Every evaluator here is a `base.FeatureEvaluator`: `extract(samples)` then
`from_features(features)`; evaluators with the same `feature_key` and `num_samples` share one
sampling and one extraction (`metrics.run_evaluators` does that).
"""
import numpy as np

from gan_research.metrics import extractors, reference
from gan_research.metrics.base import FeatureEvaluator
from gan_research.metrics.fid import fid
from gan_research.metrics.inception_score import inception_score
from gan_research.metrics.kid import kid
from gan_research.metrics.precision_recall import precision_recall

STACKED_MNIST_MODES = 1000  # 10^3 digit triples
STACKED_MNIST_SAMPLES = 26_000  # as in VEEGAN and PacGAN


class _SampleEvaluator(FeatureEvaluator):
  """Samples num_samples images, extracts features with a named extractor, names the values."""
  name = None
  default_num_samples = 10_000

  def __init__(self, eval_config, source, workdir=None):
    del source  # the reference is read by split from the run's dataset, not the train stream
    self.num_samples = int(eval_config.get('num_samples', self.default_num_samples))
    if self.num_samples < 2:
      raise ValueError(f'{self.name}: num_samples must be >= 2; got {self.num_samples}.')
    self.extractor = extractors.get_extractor(
        eval_config.get('extractor', 'fid_mnist'),
        classifier_path=eval_config.get('classifier_path'),
        inception_weights=eval_config.get('inception_weights'))
    self.feature_key = self.extractor.cache_key

  def extract(self, samples):
    return self.extractor(samples)

  def _name(self, statistic=None):
    base = f'{self.name}/{self.extractor.name}'
    return f'{base}_{statistic}' if statistic else base


class _RealDataEvaluator(_SampleEvaluator):
  """A metric comparing generated features with those of real data (cached in the workdir)."""

  def __init__(self, eval_config, source, workdir=None):
    super().__init__(eval_config, source, workdir)
    self.workdir = workdir
    self.split = eval_config.get('reference_split', 'test')
    self.num_reference = int(eval_config.get('num_reference', self.num_samples))
    self.data_config = reference.reference_data_config(eval_config, workdir)
    self._real = None

  @property
  def real(self):
    """Real-data Features, loaded or computed at first use (not when training starts)."""
    if self._real is None:
      self._real = reference.real_features(self.extractor, self.data_config, self.split,
                                           self.num_reference, self.workdir)
    return self._real


class FIDEvaluator(_RealDataEvaluator):
  name = 'fid'

  def from_features(self, fake):
    return {self._name(): fid(self.real.features, fake.features)}


class KIDEvaluator(_RealDataEvaluator):
  name = 'kid'

  def from_features(self, fake):
    mean, std = kid(self.real.features, fake.features)
    return {self._name('mean'): mean, self._name('std'): std}


class PrecisionRecallEvaluator(_RealDataEvaluator):
  name = 'pr'

  def from_features(self, fake):
    precision, recall = precision_recall(self.real.features, fake.features)
    return {self._name('precision'): precision, self._name('recall'): recall}


class InceptionScoreEvaluator(_SampleEvaluator):
  """Inception Score of the extractor's class probabilities (no real data needed)."""
  name = 'is'

  def from_features(self, fake):
    if fake.probs is None:
      raise ValueError(f'Extractor {self.extractor.name!r} gives no class probabilities; the '
                       'Inception Score needs a classifier.')
    mean, std = inception_score(fake.probs)
    return {self._name('mean'): mean, self._name('std'): std}


def stacked_mnist_mode_statistics(channel_probs):
  """Modes covered and KL(generated mode histogram || uniform) of Stacked MNIST samples.

  Args:
    channel_probs: [N, 3, 10] digit probabilities of each sample's three channels (or integer
      digits [N, 3]). A sample's mode is its digit triple, 100 * d0 + 10 * d1 + d2.

  Returns:
    {'modes': number of the 1000 modes with at least one sample,
     'kl': sum_m q_m log(q_m * 1000), 0 for a uniform histogram, log(1000) for a single mode}.
  """
  x = np.asarray(channel_probs)
  if x.ndim == 3 and x.shape[1:] == (3, 10):
    digits = np.argmax(x, axis=-1)
  elif x.ndim == 2 and x.shape[1] == 3 and np.issubdtype(x.dtype, np.integer):
    digits = x
  else:
    raise ValueError(f'Expected digit probabilities [N, 3, 10] or integer digits [N, 3]; got '
                     f'{x.dtype} {x.shape}.')
  if len(digits) == 0:
    raise ValueError('No samples to count modes of (N = 0).')
  if digits.min() < 0 or digits.max() > 9:
    raise ValueError(f'Digits must be in 0..9; got values in [{digits.min()}, {digits.max()}].')
  modes = digits @ np.array([100, 10, 1])
  q = np.bincount(modes, minlength=STACKED_MNIST_MODES) / len(modes)
  covered = q > 0
  return {'modes': int(covered.sum()),
          'kl': float(np.sum(q[covered] * np.log(q[covered] * STACKED_MNIST_MODES)))}


class StackedMNISTEvaluator(_SampleEvaluator):
  """Stacked MNIST mode coverage: each of the 3 channels is classified as a digit."""
  name = 'stacked_mnist'
  default_num_samples = STACKED_MNIST_SAMPLES

  def __init__(self, eval_config, source, workdir=None):
    super().__init__(eval_config, source, workdir)
    classifier = self.extractor.classifier
    if classifier is None or classifier.num_classes != 10:
      raise ValueError(f'stacked_mnist needs a 10-digit classifier extractor '
                       f'(fid_mnist); got {self.extractor.name!r}.')
    self.classifier = classifier
    # Per-channel probabilities are not the extractor's features: never share them with fid/is.
    self.feature_key = ('stacked_mnist_channels', self.extractor.cache_key)

  def extract(self, samples):
    x = np.asarray(samples)
    if x.ndim != 4 or x.shape[-1] != 3:
      raise ValueError(f'stacked_mnist needs 3-channel NHWC samples (one MNIST digit per '
                       f'channel); got shape {x.shape}.')
    n = x.shape[0]
    # Channel c of every sample becomes one grey image: [N, H, W, 3] -> [3N, H, W, 1].
    grey = np.moveaxis(x, -1, 0).reshape(3 * n, *x.shape[1:3], 1)
    return self.classifier.probs(grey).reshape(3, n, -1).transpose(1, 0, 2)

  def from_features(self, channel_probs):
    stats = stacked_mnist_mode_statistics(channel_probs)
    # One classifier counts modes (the extractor is fixed), so the names carry no extractor.
    return {f'{self.name}/{key}': value for key, value in stats.items()}
