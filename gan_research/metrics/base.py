"""The evaluator contract: how the training loop and `evaluate` build and call every evaluator.

Built as `EVALUATORS[name](eval_config, source, workdir)` (eval_config: the dict of
`config.evals.<name>`; source: the run's data.Source; workdir: where caches go, or None) and
called as `evaluator(ctx) -> {metric_name: float}` with one `EvalContext` that holds everything
an evaluator may need of the run. Evaluators that turn generated samples into features derive
from `FeatureEvaluator`, which `run_evaluators` recognises by type to sample and extract once for
all of them.
"""
import abc
import dataclasses
from typing import Any, Callable, Optional


@dataclasses.dataclass(frozen=True)
class EvalContext:
  """What an evaluation sees of the run.

  experiment: the train.Experiment (config, source, game, mesh).
  state: the TrainState evaluated (its sampling_params are the EMA weights where there are).
  sample_fn: (rng, n, labels=None) -> numpy [n, *example_shape] samples of state's (EMA)
    generator; `labels` (int [n]) the class of each (class-conditional games only).
  rng: the key of this evaluation's samples.
  workdir: the run's directory (caches, metrics.jsonl), or None.
  """
  experiment: Any
  state: Any
  sample_fn: Callable[..., Any]
  rng: Any
  workdir: Optional[str] = None


def make_context(experiment, state, sampler, rng, workdir=None) -> EvalContext:
  """The one way the loop and `evaluate` build a context.

  `sampler` is `experiment.make_sampler()`'s sample_fn(state, rng, n, labels=None) (compiled
  once by the caller and reused across evaluations); the context binds it to `state`.
  """
  return EvalContext(experiment, state,
                     lambda rng, n, labels=None: sampler(state, rng, n, labels), rng, workdir)


class Evaluator(abc.ABC):
  """An evaluator: `__init__(eval_config, source, workdir=None)`, `__call__(ctx) -> {name: value}`.

  `extractor` is the feature network whose name and fingerprint `evaluate` reports (None for
  evaluators without one); `num_samples` the generated (or translated) examples an evaluation
  uses (None where that is not a fixed number).
  """
  extractor = None
  num_samples: Optional[int] = None

  @abc.abstractmethod
  def __call__(self, ctx: EvalContext) -> dict:
    """{metric_name: value} of the run in `ctx`."""


class FeatureEvaluator(Evaluator):
  """A metric of the features of `num_samples` generated samples: extract, then from_features.

  Evaluators with equal `feature_key` and `num_samples` can share one extraction, and all
  FeatureEvaluators of one evaluation share one set of samples (`run_evaluators`).
  """
  feature_key: Any
  num_samples: int

  def __call__(self, ctx: EvalContext) -> dict:
    return self.from_features(self.extract(ctx.sample_fn(ctx.rng, self.num_samples)))

  @abc.abstractmethod
  def extract(self, samples):
    """Features of generated samples (numpy, [num_samples, *example_shape])."""

  @abc.abstractmethod
  def from_features(self, features) -> dict:
    """{metric_name: value} from the output of `extract`."""


def run_evaluators(evaluators, ctx: EvalContext) -> dict:
  """Runs several evaluators on one context; returns the union of their {metric: value}.

  FeatureEvaluators share one set of samples (the largest num_samples asked for, each taking a
  prefix) and, where their `feature_key` and `num_samples` agree, one extraction. Every other
  evaluator (e.g. `modes`, `translation`) is simply called with the context.
  """
  results, shared = {}, []
  for evaluator in evaluators:
    if isinstance(evaluator, FeatureEvaluator):
      shared.append(evaluator)
    else:
      results.update(evaluator(ctx))
  if shared:
    samples = ctx.sample_fn(ctx.rng, max(ev.num_samples for ev in shared))
    features = {}
    for ev in shared:
      key = (ev.feature_key, ev.num_samples)
      if key not in features:
        features[key] = ev.extract(samples[:ev.num_samples])
      results.update(ev.from_features(features[key]))
  return results
