"""Data sources by name (`config.dataset`).

Every source derives from `source.Source`, which states the contract once: `example_shape` and
`get_batch(step, *, d_steps, batch_size, process_index, process_count)` -> {'x': float32
[d_steps, batch_size // process_count, *example_shape]}, a pure function of (config.seed, step),
plus the optional capabilities (`images`, `labels`, `test`, `centers`, `std`, `density`) that a
source declares or leaves at their defaults.
"""
from gan_research.data import images, stacked_mnist, synthetic, translation
from gan_research.data.source import Source

SYNTHETIC = {'ring8': synthetic.ring8, 'grid25': synthetic.grid25, 'gauss1d': synthetic.gauss1d}
IMAGES = ('mnist', 'stacked_mnist', 'image_folder', 'tfds:<name>')
DATASETS = tuple(SYNTHETIC) + IMAGES + translation.DATASETS


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
  labels = None
  if name == 'stacked_mnist':  # three MNIST digits per image, one per channel
    digits, digit_labels = _mnist(config, split)
    return stacked_mnist.StackedMNISTSource(images.resize(digits, config.image_size),
                                            digit_labels, seed=config.seed)
  if name == 'mnist':
    array, labels = _mnist(config, split)
  elif name.startswith('tfds:'):
    array, labels = images.load_tfds(name.removeprefix('tfds:'), split, config.data_dir)
  elif name == 'image_folder':
    array = images.load_folder(config.data_dir, config.image_size, extra.get('channels', 3))
  else:
    raise ValueError(f'Unknown dataset {name!r}; valid datasets: {list(DATASETS)}.')
  return images.ArraySource(images.resize(array, config.image_size), seed=config.seed,
                            labels=labels)


def _mnist(config, split):
  """MNIST digits [N, 28, 28, 1] and labels: from the IDX files in data_dir, else through TFDS."""
  if images.has_mnist_idx(config.data_dir):
    return images.load_mnist_idx(config.data_dir, split)
  return images.load_tfds('mnist', split, config.data_dir)
