"""Data sources by name (`config.dataset`).

Every source derives from `source.Source`, which states the contract once: `example_shape` and
`get_batch(step, *, d_steps, batch_size, process_index, process_count)` -> {'x': float32
[d_steps, batch_size // process_count, *example_shape]}, a pure function of (config.seed, step),
plus the optional capabilities (`images`, `labels`, `class_names`, `labelled`, `test`, `centers`,
`std`, `density`) that a source declares or leaves at their defaults. Labelled sources add
'label' (and, with `config.data.labels_per_class`, 'labelled_x' / 'labelled_label') to batches.
"""
from gan_research.data import images, stacked_mnist, superres, synthetic, translation
from gan_research.data.source import Source

SYNTHETIC = {'ring8': synthetic.ring8, 'grid25': synthetic.grid25, 'gauss1d': synthetic.gauss1d}
IMAGES = ('mnist', 'stacked_mnist', 'image_folder', 'tfds:<name>')
DATASETS = tuple(SYNTHETIC) + IMAGES + translation.DATASETS + superres.DATASETS
IMAGE_OPTIONS = ('labels_per_class', 'channels')  # config.data of the image datasets


def get_source(config, split: str = 'train', *, needs_labels: bool = False):
  """Builds the source named by `config.dataset`; image sources are resized to image_size.

  Image sources take `config.data.labels_per_class` (0 = every label; N: a labelled subset of N
  examples per class, chosen from config.seed, on the train split only; source.Source says how
  batches carry it) and `config.data.channels` (image_folder). `needs_labels`: the model is
  conditioned on classes (a game with `needs_labels`), so data without class labels is an error
  that says where labels come from.
  """
  name, extra = config.dataset, dict(config.data)
  if name in SYNTHETIC or translation.is_translation_dataset(name) or name in superres.DATASETS:
    if needs_labels:
      raise ValueError(f'config.game={config.game!r} needs class labels, but dataset {name!r} has '
                       f'none. Labelled datasets: mnist, tfds:NAME (with a label feature), '
                       f'image_folder laid out as {images.CLASS_FOLDER_LAYOUT}.')
    if name in SYNTHETIC:
      try:
        return SYNTHETIC[name](seed=config.seed, **extra)
      except TypeError as e:
        raise ValueError(f'config.data does not fit dataset {name!r}: {e}') from e
    if name in superres.DATASETS:  # pairs {'x': low resolution, 'y': high resolution}
      return superres.get_source(config, split)
    return translation.get_source(config, split)  # two domains: batches {'x': ..., 'y': ...}
  unknown = sorted(set(extra) - set(IMAGE_OPTIONS))
  if unknown:
    raise ValueError(f'config.data has options {unknown} that dataset {name!r} does not take; '
                     f'valid: {list(IMAGE_OPTIONS)}.')
  if name == 'stacked_mnist':  # three MNIST digits per image, one per channel
    digits, digit_labels = _mnist(config, split)
    return stacked_mnist.StackedMNISTSource(images.resize(digits, config.image_size),
                                            digit_labels, seed=config.seed)
  labels = class_names = None
  if name == 'mnist' and images.has_mnist_idx(config.data_dir):
    array, labels = images.load_mnist_idx(config.data_dir, split)
    class_names = images.MNIST_CLASS_NAMES
  elif name == 'mnist' or name.startswith('tfds:'):
    array, labels, class_names = images.load_tfds(name.removeprefix('tfds:'), split,
                                                  config.data_dir)
    if labels is None and needs_labels:
      raise ValueError(f'config.game={config.game!r} needs class labels, but TFDS dataset '
                       f'{name!r} has no label feature.')
  elif name == 'image_folder':
    array, labels, class_names = images.load_labelled_folder(
        config.data_dir, config.image_size, extra.get('channels', 3))
    if labels is None and needs_labels:
      raise ValueError(f'config.game={config.game!r} needs class labels, but image_folder '
                       f'{config.data_dir!r} has images directly in it, so no classes. Lay it '
                       f'out as {images.CLASS_FOLDER_LAYOUT}.')
  else:
    raise ValueError(f'Unknown dataset {name!r}; valid datasets: {list(DATASETS)}.')
  labels_per_class = int(extra.get('labels_per_class', 0)) if split == 'train' else 0
  return images.ArraySource(images.resize(array, config.image_size), seed=config.seed,
                            labels=labels, class_names=class_names,
                            labels_per_class=labels_per_class)


def _mnist(config, split):
  """MNIST digits [N, 28, 28, 1] and labels: from the IDX files in data_dir, else through TFDS."""
  if images.has_mnist_idx(config.data_dir):
    return images.load_mnist_idx(config.data_dir, split)
  return images.load_tfds('mnist', split, config.data_dir)[:2]
