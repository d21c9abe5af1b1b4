"""python -m gan_research.figures NAME --workdir=DIR [--step=N] [--num_samples=N] [--seed=S]"""
from absl import app, flags

from gan_research import figures

_WORKDIR = flags.DEFINE_string('workdir', None, 'Training workdir with checkpoints.')
_STEP = flags.DEFINE_integer('step', None, 'Checkpoint step; default the latest.')
_NUM_SAMPLES = flags.DEFINE_integer('num_samples', None, 'Samples to draw; figure default.')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the latents.')
flags.mark_flags_as_required(['workdir'])


def main(argv):
  if len(argv) != 2:
    raise app.UsageError(f'Usage: python -m gan_research.figures NAME --workdir=DIR; NAME one of '
                         f'{sorted(figures.FIGURES)}.')
  options = {'step': _STEP.value, 'seed': _SEED.value}
  if _NUM_SAMPLES.value is not None:
    options['num_samples'] = _NUM_SAMPLES.value
  path = figures.get_figure(argv[1]).run(_WORKDIR.value, **options)
  print(f'Wrote {path}')


if __name__ == '__main__':
  app.run(main)
