"""Games by name (`config.game`): what the two players compute. The contract is `base.Game`.

Every game is built the same way (`build`): the trainer's settings from the config, the data
source, and the game's own settings from `config.game_kw` (empty = the game's defaults, which
`default_kw(name)` returns). New families (autoencoding, ...) add a module and a `GAMES` entry,
not a trainer.
"""
import inspect

from gan_research.games.base import Game, apply  # noqa: F401  (re-exported)
from gan_research.games.conditional import Conditional
from gan_research.games.semi_supervised import SemiSupervised
from gan_research.games.stylegan import StyleGAN
from gan_research.games.superres import SuperResolution
from gan_research.games.translation import (  # noqa: F401  (re-exported)
    CycleGAN, Pix2Pix, cycle_loss, identity_loss, image_pool_query)
from gan_research.games.unconditional import Unconditional

GAMES = {'unconditional': Unconditional, 'conditional': Conditional, 'stylegan': StyleGAN,
         'cyclegan': CycleGAN, 'pix2pix': Pix2Pix, 'superres': SuperResolution,
         'semi_supervised': SemiSupervised}

# The trainer's settings `build` gives every game; the other keyword arguments of a game's
# constructor are its own settings (config.game_kw).
TRAINER_KW = ('objective', 'penalty', 'penalty_weight', 'penalty_every', 'g_penalty_every',
              'ema_decay', 'source', 'constrain')


def get_game(name: str):
  if name not in GAMES:
    raise ValueError(f'Unknown game {name!r}; valid games: {sorted(GAMES)}.')
  return GAMES[name]


def default_kw(name: str) -> dict:
  """The game's own settings with their defaults (the keywords config.game_kw may hold)."""
  parameters = inspect.signature(get_game(name).__init__).parameters.values()
  return {p.name: p.default for p in parameters
          if p.kind is p.KEYWORD_ONLY and p.name not in TRAINER_KW}


def build(config, generator, discriminator, *, source, constrain):
  """The game `config.game` with the trainer's settings, `source` and `config.game_kw`.

  `constrain` lays out per-example arrays (latents, test inputs) like the data.
  """
  cls = get_game(config.game)
  game_kw = config.game_kw.to_dict()
  valid = default_kw(config.game)
  unknown = sorted(set(game_kw) - set(valid))
  if unknown:
    raise ValueError(f'Unknown config.game_kw keys {unknown} for game {config.game!r}; valid '
                     f'keys: {sorted(valid)}.')
  return cls(generator, discriminator, objective=config.objective, penalty=config.penalty,
             penalty_weight=config.penalty_weight, penalty_every=config.penalty_every,
             g_penalty_every=config.g_penalty_every, ema_decay=config.ema_decay, source=source,
             constrain=constrain, **game_kw)
