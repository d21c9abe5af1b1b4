"""Real-data features for the sample-based metrics, computed once and cached in the workdir.

The reference set is the first `count` images of a dataset split, read through
`data.get_source` exactly as training reads its data (same resize, same [-1, 1] scaling), so real
and generated images reach the extractor in the same form. Its features go to
WORKDIR/eval_cache/real_<dataset>_<split>_<count>_<extractor>-<weights fingerprint>.npz: every
evaluator and every later evaluation of that workdir reuses them, and a different extractor,
retrained classifier, split or count gets a file of its own.
"""
import os
import re

import ml_collections
import numpy as np
from absl import logging

from gan_research import config_lib, data
from gan_research.data import images as image_data
from gan_research.metrics.extractors import Features

CACHE_DIR = 'eval_cache'
# What the reference needs to know of the training config; evaluators may override each.
DATA_KEYS = ('dataset', 'data_dir', 'image_size', 'data')


def reference_data_config(eval_config, workdir) -> ml_collections.ConfigDict:
  """The dataset fields of the reference: eval_config's, else those of WORKDIR/config.json."""
  fields = {key: eval_config[key] for key in DATA_KEYS if key in eval_config}
  missing = [key for key in DATA_KEYS if key not in fields]
  config_path = os.path.join(workdir, 'config.json') if workdir else None
  if missing and config_path and os.path.exists(config_path):
    run_config = config_lib.load_json(config_path)
    fields.update({key: run_config[key] for key in missing if key in run_config})
  if 'dataset' not in fields:
    raise ValueError('The reference data is unknown: set dataset= (and data_dir=, image_size=) '
                     'in the evaluator config, or pass the training workdir holding '
                     'config.json.')
  config = config_lib.base_config()
  config.seed = 0
  config.update(fields)
  return config


def _safe(name) -> str:
  return re.sub(r'[^A-Za-z0-9_.-]+', '-', str(name))


def cache_path(workdir, dataset, split, count, extractor) -> str:
  return os.path.join(workdir, CACHE_DIR, '_'.join(
      _safe(part) for part in ('real', dataset, split, count, extractor.cache_key)) + '.npz')


def real_features(extractor, data_config, split, count, workdir) -> Features:
  """Features of the first `count` images of `split`, from the workdir cache if there.

  Raises ValueError when the split holds fewer than `count` images: FID and KID are biased by the
  sample size, so the reference is never silently smaller than asked.
  """
  path = cache_path(workdir, data_config.dataset, split, count, extractor) if workdir else None
  if path and os.path.exists(path):
    with np.load(path) as cached:
      probs = cached['probs'] if 'probs' in cached else None
      return Features(cached['features'], probs)
  source = data.get_source(data_config, split=split)
  if source.images is None:
    raise ValueError(f'Dataset {data_config.dataset!r} is not an image dataset; the feature '
                     'metrics (fid, kid, is, pr) need images.')
  if len(source.images) < count:
    raise ValueError(f'The {split!r} split of {data_config.dataset!r} has {len(source.images)} '
                     f'images, fewer than the {count} reference images asked for; lower '
                     'num_reference (or num_samples) or use reference_split="train".')
  logging.info('Computing %s features of %d %s/%s images (cached in %s).', extractor.name, count,
               data_config.dataset, split, path)
  feats = extractor(image_data.to_float(source.images[:count]))
  if path:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    arrays = {'features': feats.features}
    if feats.probs is not None:
      arrays['probs'] = feats.probs
    # Write-then-rename: a run killed mid-write never leaves a truncated cache behind. The
    # processes of a multi-host run each compute the features; the pid keeps their files apart.
    tmp = f'{path}.tmp{os.getpid()}.npz'
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
  return feats
