"""Data sources by name (`config.dataset`).

Every source derives from `source.Source`, which states the contract once: `example_shape` and
`get_batch(step, *, d_steps, batch_size, process_index, process_count)` -> {'x': float32
[d_steps, batch_size // process_count, *example_shape]}, a pure function of (config.seed, step),
plus the optional capabilities (`images`, `labels`, `test`, `centers`, `std`, `density`) that a
source declares or leaves at their defaults.
"""
from gan_research.data import images, superres, synthetic, translation
from gan_research.data.source import Source

SYNTHETIC = {'ring8': synthetic.ring8, 'grid25': synthetic.grid25, 'gauss1d': synthetic.gauss1d}
IMAGES = ('mnist', 'image_folder', 'tfds:<name>')
DATASETS = tuple(SYNTHETIC) + IMAGES + translation.DATASETS + superres.DATASETS


def get_source(config, split: str = 'train'):
  """Builds the source named by `config.dataset`; image sources are resized to image_size."""
  name, extra = config.dataset, dict(config.data)
  if name in SYNTHETIC:
    try:
      return SYNTHETIC[name](seed=config.seed, **extra)
    except TypeError as e:
      raise ValueError(f'config.data does not fit dataset {name!r}: {e}') from e
  if translation.is_translation_dataset(name):  # two domains: batches {'x': ..., 'y': ...}
    return translation.get_source(config, split)
  if name in superres.DATASETS:  # pairs {'x': low resolution, 'y': high resolution}
    return superres.get_source(config, split)
  labels = None
  if name == 'mnist' and images.has_mnist_idx(config.data_dir):
    array, labels = images.load_mnist_idx(config.data_dir, split)
  elif name == 'mnist' or name.startswith('tfds:'):
    array, labels = images.load_tfds(name.removeprefix('tfds:'), split, config.data_dir)
  elif name == 'image_folder':
    array = images.load_folder(config.data_dir, config.image_size, extra.get('channels', 3))
  else:
    raise ValueError(f'Unknown dataset {name!r}; valid datasets: {list(DATASETS)}.')
  return images.ArraySource(images.resize(array, config.image_size), seed=config.seed,
                            labels=labels)
