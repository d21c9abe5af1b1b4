"""`cond`: how often a class-conditional generator draws the class it is asked for.

cond/accuracy is the fraction of samples, num_samples of them with the classes in turn
(0, 1, ..., K-1, 0, ...), that a classifier of the data's classes (the digit classifier of
digit_classifier.py through the `fid_mnist` extractor) assigns to the requested class;
cond/min_class_accuracy is that fraction for the worst class. Real MNIST test digits score the
classifier's own test accuracy (99.0-99.3%), the ceiling of a perfect generator; an unconditional
generator scores about 1 / K. Configured as config.evals.cond = dict(every_steps=...,
num_samples=..., extractor='fid_mnist', classifier_path=...); FID and IS of the same run come from
the fid and is evaluators, on samples of every class.
"""
import numpy as np

from gan_research.metrics import extractors
from gan_research.metrics.base import Evaluator


class ConditionalAccuracyEvaluator(Evaluator):
  """cond/accuracy and cond/min_class_accuracy of a class-conditional game's samples."""

  def __init__(self, eval_config, source, workdir=None):
    del workdir
    if source.num_classes is None:
      raise ValueError('The cond evaluator needs labelled data (a class-conditional run); this '
                       'dataset has no class labels.')
    self.num_classes = source.num_classes
    self.num_samples = int(eval_config.get('num_samples', 10_000))
    if self.num_samples < self.num_classes:
      raise ValueError(f'cond: num_samples must be >= the {self.num_classes} classes; got '
                       f'{self.num_samples}.')
    self.extractor = extractors.get_extractor(
        eval_config.get('extractor', 'fid_mnist'),
        classifier_path=eval_config.get('classifier_path'),
        inception_weights=eval_config.get('inception_weights'))
    classifier = self.extractor.classifier
    if classifier is None or classifier.num_classes != self.num_classes:
      raise ValueError(f'cond needs a classifier of the data\'s {self.num_classes} classes '
                       f'(extractor fid_mnist for MNIST); got {self.extractor.name!r}.')
    self.classifier = classifier

  def __call__(self, ctx) -> dict:
    labels = np.arange(self.num_samples) % self.num_classes
    samples = ctx.sample_fn(ctx.rng, self.num_samples, labels)
    return accuracy_by_class(self.classifier.probs(samples), labels, self.num_classes)


def accuracy_by_class(probs, labels, num_classes) -> dict:
  """{'cond/accuracy', 'cond/min_class_accuracy'} of class probabilities against labels."""
  hit = np.argmax(probs, axis=-1) == labels
  per_class = [hit[labels == c].mean() for c in range(num_classes) if np.any(labels == c)]
  return {'cond/accuracy': float(hit.mean()), 'cond/min_class_accuracy': float(min(per_class))}
