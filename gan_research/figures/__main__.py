"""python -m gan_research.figures NAME --workdir=DIR [--step=N] [--num_samples=N] [--seed=S]
[--options=KEY=VALUE,...] (figure-specific keyword arguments of its run(), e.g. num_steps=2000)"""
from absl import app, flags

from gan_research import figures

_WORKDIR = flags.DEFINE_string('workdir', None, 'Training workdir with checkpoints.')
_STEP = flags.DEFINE_integer('step', None, 'Checkpoint step; default the latest.')
_NUM_SAMPLES = flags.DEFINE_integer('num_samples', None, 'Samples to draw; figure default.')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the latents.')
_OPTIONS = flags.DEFINE_list('options', [], 'Figure-specific KEY=VALUE options (ints, floats, '
                             'true/false, or text; several values of one key joined by ";").')
flags.mark_flags_as_required(['workdir'])


def _value(text):
  if text.lower() in ('true', 'false'):
    return text.lower() == 'true'
  for kind in (int, float):
    try:
      return kind(text)
    except ValueError:
      pass
  return text.replace(';', ',')


def parse_options(items):
  """['num_steps=2000', 'methods=gan;pacgan2'] -> {'num_steps': 2000, 'methods': 'gan,pacgan2'}."""
  options = {}
  for item in items:
    key, sep, value = item.partition('=')
    if not sep:
      raise app.UsageError(f'--options takes KEY=VALUE items; got {item!r}.')
    options[key] = _value(value)
  return options


def main(argv):
  if len(argv) != 2:
    raise app.UsageError(f'Usage: python -m gan_research.figures NAME --workdir=DIR; NAME one of '
                         f'{sorted(figures.FIGURES)}.')
  options = {'step': _STEP.value, 'seed': _SEED.value}
  if _NUM_SAMPLES.value is not None:
    options['num_samples'] = _NUM_SAMPLES.value
  options.update(parse_options(_OPTIONS.value))
  path = figures.get_figure(argv[1]).run(_WORKDIR.value, **options)
  print(f'Wrote {path}')


if __name__ == '__main__':
  app.run(main)
