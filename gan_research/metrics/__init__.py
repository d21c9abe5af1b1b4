"""Evaluation metrics and the evaluators the training loop runs by name (`config.evals`).

An evaluator is built as `EVALUATORS[name](eval_config, source)` and called as
`evaluator(sample_fn, rng) -> {metric_name: value}`, where `sample_fn(rng, n)` returns n samples
from the (EMA) generator as a numpy array. The loop knows nothing of any particular metric.
"""
from gan_research.metrics.modes import mode_statistics


class ModesEvaluator:
  """Mode coverage of a synthetic mixture: modes/captured, modes/high_quality, modes/reverse_kl."""

  def __init__(self, eval_config, source):
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


def build_evaluators(evals_config, source):
  """{name: (every_steps, evaluator)} for each entry of config.evals."""
  unknown = set(evals_config) - set(EVALUATORS)
  if unknown:
    raise ValueError(f'Unknown evaluators {sorted(unknown)}; valid evaluators: '
                     f'{sorted(EVALUATORS)}.')
  return {name: (cfg.get('every_steps', 0), EVALUATORS[name](cfg, source))
          for name, cfg in evals_config.items()}
