"""Evaluate a trained workdir: python -m gan_research.evaluate --workdir=DIR --metrics=fid,kid.

Restores the latest (or --step) checkpoint, samples --num_samples images from the EMA generator
when the run kept one (the raw generator otherwise), and runs the named evaluators of
gan_research.metrics on one shared set of samples and features. Prints one JSON object
{"step", "extractor", "num_samples", "feature_networks", "values": {metric: value}} (the feature
networks by fingerprint, and for fid_mnist the classifier's path, epochs and test accuracy: an
MNIST IS depends on the classifier) and appends the values to DIR/metrics.jsonl as a
training-time evaluation would ({"step": ..., "fid/fid_mnist": ...}), so curves over steps mix
both. Real-data features are cached in DIR/eval_cache/.

Example (MNIST, digit classifier from `python -m gan_research.metrics.train_classifier`):
  python -m gan_research.evaluate --workdir=runs/dcgan --metrics=fid,kid,is,pr \
      --num_samples=10000 --classifier=runs/mnist_classifier
Example (RGB data, the standard FID InceptionV3; weights: see gan_research/metrics/inception.py):
  python -m gan_research.evaluate --workdir=runs/cifar10 --metrics=fid,is \
      --extractor=fid_inception --inception_weights=pt_inception-2015-12-05-6726825d.pth
Example (CycleGAN / pix2pix on inverted MNIST: the error against the known answer, no network):
  python -m gan_research.evaluate --workdir=runs/cg_mnist --metrics=translation
"""
import json

import jax
from absl import app, flags

from gan_research import metrics, train, writers

_WORKDIR = flags.DEFINE_string('workdir', None, 'Training workdir (with config.json and '
                               'checkpoints/).')
_METRICS = flags.DEFINE_list('metrics', ['fid', 'kid', 'is', 'pr'],
                             f'Evaluators to run; any of {sorted(metrics.EVALUATORS)}.')
_NUM_SAMPLES = flags.DEFINE_integer('num_samples', None, 'Generated images per metric (default: '
                                    "each evaluator's own, 10000; 26000 for stacked_mnist).")
_CLASSIFIER = flags.DEFINE_string('classifier', None, 'Digit classifier directory for the '
                                  'fid_mnist extractor (default: the run config\'s '
                                  'classifier_path, if any).')
_INCEPTION_WEIGHTS = flags.DEFINE_string(
    'inception_weights', None, "pytorch-fid's pt_inception-2015-12-05-6726825d.pth (or its .npz "
    "conversion) for the fid_inception extractor (default: the run config's, if any).")
_EXTRACTOR = flags.DEFINE_string('extractor', None, 'Feature extractor name (default: the run '
                                  "config's, else fid_mnist).")
_REFERENCE_SPLIT = flags.DEFINE_string('reference_split', None, 'Real-data split compared with '
                                       "(default: the run config's, else test).")
_NUM_REFERENCE = flags.DEFINE_integer('num_reference', None, 'Real images (default num_samples).')
_STEP = flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the generated samples.')
flags.mark_flags_as_required(['workdir'])


def eval_config(name, run_config, **overrides):
  """The evaluator's config: the run's config.evals.<name> if any, overridden where not None."""
  cfg = dict(run_config.evals.get(name, {}))
  cfg.pop('every_steps', None)
  cfg.update({key: value for key, value in overrides.items() if value is not None})
  return cfg


def evaluate(workdir, metric_names, *, num_samples=None, classifier_path=None,
             inception_weights=None, extractor=None, reference_split=None, num_reference=None,
             step=None, seed=0):
  """Evaluates a checkpoint of `workdir`, appends the values to its metrics.jsonl.

  Options left None come from the run's config.evals.<name>, else the evaluator's defaults.
  Returns {'step', 'extractor', 'num_samples', 'feature_networks': {extractor: info},
  'values': {metric: value}}; info is Extractor.info (weights fingerprint; for fid_mnist the
  classifier's path, training epochs and test accuracy).
  """
  unknown = sorted(set(metric_names) - set(metrics.EVALUATORS))
  if unknown or not metric_names:
    raise ValueError(f'Unknown or no metrics {unknown}; valid: {sorted(metrics.EVALUATORS)}.')
  experiment, state = train.restore(workdir, step)
  overrides = dict(num_samples=num_samples, classifier_path=classifier_path,
                   inception_weights=inception_weights, extractor=extractor,
                   reference_split=reference_split, num_reference=num_reference)
  evaluators = [metrics.EVALUATORS[name](eval_config(name, experiment.config, **overrides),
                                         experiment.source, workdir) for name in metric_names]
  ctx = metrics.make_context(experiment, state, experiment.make_sampler(), jax.random.key(seed),
                             workdir)
  values = metrics.run_evaluators(evaluators, ctx)
  step = int(state.step)
  writer = writers.MetricWriter(workdir)
  writer.write(step, values)
  writer.close()
  networks = [ev.extractor for ev in evaluators if ev.extractor is not None]
  return {'step': step,
          'extractor': _one_or_list(network.name for network in networks),
          'num_samples': _one_or_list(ev.num_samples for ev in evaluators),
          'feature_networks': {network.name: network.info for network in networks},
          'values': values}


def _one_or_list(values):
  """The value all evaluators share, the sorted list of their distinct values, or None."""
  values = sorted(set(v for v in values if v is not None))
  if not values:
    return None
  return values[0] if len(values) == 1 else values


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  result = evaluate(_WORKDIR.value, _METRICS.value, num_samples=_NUM_SAMPLES.value,
                    classifier_path=_CLASSIFIER.value,
                    inception_weights=_INCEPTION_WEIGHTS.value, extractor=_EXTRACTOR.value,
                    reference_split=_REFERENCE_SPLIT.value, num_reference=_NUM_REFERENCE.value,
                    step=_STEP.value, seed=_SEED.value)
  print(json.dumps(result))


if __name__ == '__main__':
  app.run(main)
