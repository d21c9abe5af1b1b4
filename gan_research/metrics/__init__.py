"""Evaluation metrics and the evaluators the training loop runs by name (`config.evals`).

An evaluator is built as `EVALUATORS[name](eval_config, source, workdir)` and called as
`evaluator(ctx) -> {metric_name: value}`, where `ctx = make_context(experiment, state, sampler,
rng, workdir)` is an `EvalContext` (base.py states the contract). The loop knows nothing of any
particular metric.
The formulas are importable for features of your own: `metrics.fid(a, b)`, `metrics.kid(a, b)`,
`metrics.inception_score(probs)`, `metrics.precision_recall(real, fake, k=3)`.

Sample-based evaluators (evaluators.py): `fid`, `kid`, `is`, `pr` on the features of a named
extractor (extractors.py; `fid_mnist` is the digit classifier of digit_classifier.py,
`fid_inception` the standard FID InceptionV3 of inception.py), and `stacked_mnist`; their
metric names are listed in evaluators.py. `cond` (conditional.py) scores class-conditional
generators by class.
"""
from gan_research.metrics.base import (EvalContext, Evaluator, FeatureEvaluator, make_context,
                                       run_evaluators)
from gan_research.metrics.fid import fid
from gan_research.metrics.inception_score import inception_score
from gan_research.metrics.kid import kid
from gan_research.metrics import evaluators as sample_evaluators
from gan_research.metrics.conditional import ConditionalAccuracyEvaluator
from gan_research.metrics.modes import mode_statistics
from gan_research.metrics.precision_recall import precision_recall
from gan_research.metrics.ssl import SSLEvaluator
from gan_research.metrics.superres import SuperResEvaluator
from gan_research.metrics.translation import TranslationEvaluator

__all__ = ['EVALUATORS', 'EvalContext', 'Evaluator', 'FeatureEvaluator', 'build_evaluators',
           'fid', 'inception_score', 'kid', 'make_context', 'mode_statistics', 'precision_recall',
           'run_evaluators']


class ModesEvaluator(Evaluator):
  """Mode coverage of a synthetic mixture: modes/captured, modes/high_quality, modes/reverse_kl."""

  def __init__(self, eval_config, source, workdir=None):
    del workdir
    if source.centers is None:
      raise ValueError('The `modes` evaluator needs a synthetic mixture dataset (ring8, grid25, '
                       'gauss1d).')
    self.source = source
    self.num_samples = int(eval_config.get('num_samples', 2500))

  def __call__(self, ctx):
    stats = mode_statistics(ctx.sample_fn(ctx.rng, self.num_samples), self.source.centers,
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
    'stacked_mnist': sample_evaluators.StackedMNISTEvaluator,
    'translation': TranslationEvaluator,
    'sr': SuperResEvaluator,
    'cond': ConditionalAccuracyEvaluator,  # class-conditional games: cond/accuracy
    'ssl': SSLEvaluator,  # games whose D classifies: ssl/test_error
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

