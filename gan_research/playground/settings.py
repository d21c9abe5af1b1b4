"""What a playground run can be asked for, checked, and the trainer config it becomes.

One `Settings` per run. `parse` checks a request (the page's form, or any hand-made JSON) and
raises ValueError naming the field, the value and what is allowed; `config_for` builds the
config `python -m gan_research.main` trains (experiments/playground.py calls it with the same
settings), so a saved run is reproduced by one command (`command`).

The 1-D set-up is figures/toy1d.py's (`toy1d.config_for`), so a page run and the static
`figures toy1d` grid give the same numbers for the same settings and seed; the 2-D set-up is
figures/modes2d.py's networks and batch at a constant learning rate (a decaying rate would tie
the compiled step to the number of steps).
"""
import dataclasses
import math

from gan_research import config_lib, data, objectives
from gan_research.figures import modes2d, toy1d
from gan_research.models import layers

DATA = {  # page name -> (dataset, its keyword arguments)
    'unimodal': ('gauss1d', {'num_modes': 1}),
    'bimodal': ('gauss1d', {'num_modes': 2}),
    'trimodal': ('gauss1d', {'num_modes': 3}),
    'ring8': ('ring8', {}),
    'grid25': ('grid25', {}),
}
MAX_STEPS = 10_001
MAX_PACK = 4
MAX_UNROLL_STEPS = 10
MAX_D_STEPS = 10
MAX_SEED = 2 ** 31 - 1
MAX_LEARNING_RATE = 1.0
RUNLOCAL_STEPS = 200
# The minibatch-discrimination layer of toy1d and modes2d (Salimans et al. 2016).
MINIBATCH_KERNELS, MINIBATCH_KERNEL_DIM = 5, 3


@dataclasses.dataclass(frozen=True)
class Settings:
  data: str = 'bimodal'
  activation: str = 'tanh'  # G's hidden activation
  minibatch: bool = False  # D's minibatch-discrimination layer
  objective: str = 'nonsaturating'
  pack: int = 1
  unroll_steps: int = 0
  d_steps: int = 1
  lr_g: float = 1e-3
  lr_d: float = 1e-3
  steps: int = 2000
  seed: int = 0

  @property
  def dim(self):
    return 1 if DATA[self.data][0] == 'gauss1d' else 2


def choices():
  """The values each choice field may take, for the page's menus and the error messages."""
  return {'data': list(DATA), 'activation': sorted(layers.ACTIVATIONS),
          'objective': sorted(objectives.OBJECTIVES)}


LIMITS = {'pack': (1, MAX_PACK), 'unroll_steps': (0, MAX_UNROLL_STEPS),
          'd_steps': (1, MAX_D_STEPS), 'steps': (1, MAX_STEPS), 'seed': (0, MAX_SEED)}


def _int(name, value):
  if isinstance(value, bool) or not isinstance(value, (int, float, str)):
    raise ValueError(f'{name} must be a whole number; got {value!r}.')
  try:
    number = float(value)
  except ValueError:
    raise ValueError(f'{name} must be a whole number; got {value!r}.') from None
  if not math.isfinite(number) or number != int(number):
    raise ValueError(f'{name} must be a whole number; got {value!r}.')
  lo, hi = LIMITS[name]
  if not lo <= number <= hi:
    raise ValueError(f'{name} must be in [{lo}, {hi}]; got {int(number)}.')
  return int(number)


def _learning_rate(name, value):
  try:
    number = float(value)
  except (TypeError, ValueError):
    raise ValueError(f'{name} must be a number; got {value!r}.') from None
  if not (math.isfinite(number) and 0 < number <= MAX_LEARNING_RATE):
    raise ValueError(f'{name} must be a finite number in (0, {MAX_LEARNING_RATE}]; got {value!r}.')
  return number


def _bool(name, value):
  if isinstance(value, bool):
    return value
  if str(value).lower() in ('true', '1', 'yes', 'on'):
    return True
  if str(value).lower() in ('false', '0', 'no', 'off', ''):
    return False
  raise ValueError(f'{name} must be true or false; got {value!r}.')


def parse(request: dict) -> Settings:
  """Settings from a request's fields (missing ones take their defaults); ValueError names the
  first bad field and what it may be. The combination is checked too (`config_for`)."""
  if not isinstance(request, dict):
    raise ValueError(f'A run request is a JSON object of settings; got {type(request).__name__}.')
  fields = {f.name for f in dataclasses.fields(Settings)}
  unknown = sorted(set(request) - fields)
  if unknown:
    raise ValueError(f'Unknown setting {unknown[0]!r}; valid settings: {sorted(fields)}.')
  values = {}
  for name, valid in choices().items():
    if name in request:
      if request[name] not in valid:
        raise ValueError(f'Unknown {name} {request[name]!r}; valid: {valid}.')
      values[name] = request[name]
  for name in LIMITS:
    if name in request:
      values[name] = _int(name, request[name])
  for name in ('lr_g', 'lr_d'):
    if name in request:
      values[name] = _learning_rate(name, request[name])
  if 'minibatch' in request:
    values['minibatch'] = _bool('minibatch', request['minibatch'])
  settings = Settings(**values)
  config_lib.validate(config_for(settings))  # e.g. a batch that the pack does not divide
  return settings


def config_for(settings: Settings):
  """The trainer config of a run (toy1d's set-up in 1-D, modes2d's networks in 2-D)."""
  dataset, data_kw = DATA[settings.data]
  if settings.dim == 1:
    c = toy1d.config_for(settings.activation, settings.steps, settings.minibatch)
  else:
    c = modes2d.base_config(dataset, settings.steps)
    c.generator.activation = settings.activation
    c.ema_decay = 0.0  # the live plot shows the generator that is training
    if settings.minibatch:
      c.discriminator.minibatch_kernels = MINIBATCH_KERNELS
      c.discriminator.minibatch_kernel_dim = MINIBATCH_KERNEL_DIM
  c.dataset = dataset
  c.data = data_kw
  c.seed = settings.seed
  c.num_train_steps = settings.steps
  c.objective = settings.objective
  c.pack = settings.pack
  c.unroll_steps = settings.unroll_steps
  c.d_steps = settings.d_steps
  c.optimizer_g = config_lib.adam(settings.lr_g, 0.5, 0.999)
  c.optimizer_d = config_lib.adam(settings.lr_d, 0.5, 0.999)
  if settings.unroll_steps:
    # Unrolling differentiates through D's Adam: keep sqrt(v) differentiable where v = 0.
    c.optimizer_d.eps_root = 1e-16
  c.log_every_steps = min(100, settings.steps)
  c.checkpoint_every_steps = settings.steps
  c.sample_every_steps = settings.steps
  return c


def num_rows(settings: Settings):
  """Mode rows every mixture of this dimension is padded to, so that changing the data of a
  dimension reuses the compiled functions (padding changes no draw: data.synthetic)."""
  return max(len(source(name).centers) for name in DATA if Settings(data=name).dim == settings.dim)


def source(data_name: str):
  """The data source of a page data name, e.g. 'bimodal'."""
  dataset, data_kw = DATA[data_name]
  return data.SYNTHETIC[dataset](**data_kw)


def to_arg(settings: Settings) -> str:
  """'data=bimodal,activation=tanh,...': the argument of experiments/playground.py."""
  return ','.join(f'{f.name}={getattr(settings, f.name)}' for f in dataclasses.fields(Settings))


def command(settings: Settings, workdir: str) -> str:
  """The command that trains this run with the trainer's own loop."""
  return (f'python -m gan_research.main --config=experiments/playground.py:{to_arg(settings)} '
          f'--workdir={workdir}')


def from_arg(arg) -> Settings:
  """Settings from experiments/playground.py's argument (to_arg's format; defaults for the
  rest); `runlocal` shortens the run to RUNLOCAL_STEPS."""
  args = config_lib.parse_arg(arg, runlocal=False, **dataclasses.asdict(Settings())).to_dict()
  if args.pop('runlocal'):
    args['steps'] = min(args['steps'], RUNLOCAL_STEPS)
  return parse(args)
