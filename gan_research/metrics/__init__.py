"""Evaluation metrics and the evaluators the training loop runs by name (`config.evals`).

An evaluator is built as `EVALUATORS[name](eval_config, source, workdir)` and called as
`evaluator(sample_fn, rng) -> {metric_name: value}`, where `sample_fn(rng, n)` returns n samples
from the (EMA) generator as a numpy array. The loop knows nothing of any particular metric.
The formulas are importable for features of your own: `metrics.fid(a, b)`, `metrics.kid(a, b)`,
`metrics.inception_score(probs)`, `metrics.precision_recall(real, fake, k=3)`.
"""
from gan_research.metrics.fid import fid
from gan_research.metrics.inception_score import inception_score
from gan_research.metrics.kid import kid
from gan_research.metrics.modes import mode_statistics
from gan_research.metrics.precision_recall import precision_recall


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


EVALUATORS = {'modes': ModesEvaluator}


def build_evaluators(evals_config, source, workdir):
  """{name: (every_steps, evaluator)} for each entry of config.evals."""
  unknown = set(evals_config) - set(EVALUATORS)
  if unknown:
    raise ValueError(f'Unknown evaluators {sorted(unknown)}; valid evaluators: '
                     f'{sorted(EVALUATORS)}.')
  return {name: (cfg.get('every_steps', 0), EVALUATORS[name](cfg, source, workdir))
          for name, cfg in evals_config.items()}
