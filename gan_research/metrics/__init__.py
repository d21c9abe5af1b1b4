"""Evaluation metrics and the evaluators the training loop runs by name (`config.evals`).

An evaluator is built as `EVALUATORS[name](eval_config, source, workdir)` and called as
`evaluator(sample_fn, rng) -> {metric_name: value}`, where `sample_fn(rng, n)` returns n samples
from the (EMA) generator as a numpy array. The loop knows nothing of any particular metric.
The formulas are importable for features of your own: `metrics.fid(a, b)`, `metrics.kid(a, b)`,
`metrics.inception_score(probs)`, `metrics.precision_recall(real, fake, k=3)`.

Sample-based evaluators (evaluators.py): `fid`, `kid`, `is`, `pr` on the features of a named
extractor (extractors.py; `fid_mnist` is the digit classifier of digit_classifier.py,
`fid_inception` the standard FID InceptionV3 of inception.py), and `stacked_mnist_modes`; their
metric names are listed in evaluators.py.
"""
from gan_research.metrics.fid import fid
from gan_research.metrics.inception_score import inception_score
from gan_research.metrics.kid import kid
from gan_research.metrics import evaluators as sample_evaluators
from gan_research.metrics.modes import mode_statistics
from gan_research.metrics.precision_recall import precision_recall
from gan_research.metrics.translation import TranslationEvaluator

__all__ = ['EVALUATORS', 'build_evaluators', 'fid', 'inception_score', 'kid', 'mode_statistics',
           'precision_recall', 'run_evaluators']


class ModesEvaluator:
  """Mode coverage of a synthetic mixture: modes/captured, modes/high_quality, modes/reverse_kl."""

  def __init__(self, eval_config, source, workdir=None):
    del workdir
    if not hasattr(source, 'centers'):
      raise ValueError('The `modes` evaluator needs a synthetic mixture dataset (ring8, grid25, '
                       'gauss1d).')
    self.source = source
    self.num_samples = eval_config.get('num_samples', 2500)

  def __call__(self, sample_fn, rng):
    stats = mode_statistics(sample_fn(rng, self.num_samples), self.source.centers,
                            self.source.std)
    return {f'modes/{k}': v for k, v in stats.items()}


EVALUATORS = {
    'modes': ModesEvaluator,
    'fid': sample_evaluators.FIDEvaluator,
    'kid': sample_evaluators.KIDEvaluator,
    'is': sample_evaluators.InceptionScoreEvaluator,
    # The same evaluator under a name flags can reach: `is` is a Python keyword, so
    # --config.evals.is.every_steps=... cannot be parsed; --config.evals.inception_score... can.
    'inception_score': sample_evaluators.InceptionScoreEvaluator,
    'pr': sample_evaluators.PrecisionRecallEvaluator,
    'stacked_mnist_modes': sample_evaluators.StackedMNISTModesEvaluator,
    'translation': TranslationEvaluator,  # needs the generator: called with `context`
}


def build_evaluators(evals_config, source, workdir):
  """{name: (every_steps, evaluator)} for each enabled entry of config.evals.

  every_steps > 0 runs an evaluator on that schedule and at the last step, 0 at the last step
  only, and < 0 not at all (so experiment files can declare evaluators that flags switch on).
  """
  unknown = set(evals_config) - set(EVALUATORS)
  if unknown:
    raise ValueError(f'Unknown evaluators {sorted(unknown)}; valid evaluators: '
                     f'{sorted(EVALUATORS)}.')
  return {name: (cfg.get('every_steps', 0), EVALUATORS[name](cfg, source, workdir))
          for name, cfg in evals_config.items() if cfg.get('every_steps', 0) >= 0}


def run_evaluators(evaluators, sample_fn, rng, context=None):
  """Runs several evaluators, sampling and extracting features once where they can share.

  Evaluators with `uses_context` (e.g. `translation`) are called with `context` too:
  {'experiment': train.Experiment, 'state': TrainState}.

  Evaluators with `extract`/`from_features` and the same `feature_key` share one extraction; all
  of them share one set of samples (the largest num_samples asked for, each taking a prefix).
  Others (e.g. `modes`) are simply called. Returns the union of their {metric: value}.
  """
  results, shared = {}, []
  for evaluator in evaluators:
    if hasattr(evaluator, 'from_features'):
      shared.append(evaluator)
    elif getattr(evaluator, 'uses_context', False):
      results.update(evaluator(sample_fn, rng, context))
    else:
      results.update(evaluator(sample_fn, rng))
  if shared:
    samples = sample_fn(rng, max(ev.num_samples for ev in shared))
    features = {}
    for ev in shared:
      key = (ev.feature_key, ev.num_samples)
      if key not in features:
        features[key] = ev.extract(samples[:ev.num_samples])
      results.update(ev.from_features(features[key]))
  return results
