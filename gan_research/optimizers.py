"""Optimisers and learning-rate schedules from config dicts (`config.optimizer_g/_d`).

Schedules count the player's own updates (the discriminator makes `d_steps` per train step):
  constant                 lr
  linear_decay             lr until decay_start_steps, then linearly to 0 at decay_steps
                           (CycleGAN's 100 + 100 epochs)
  cosine                   lr * cosine decay to 0 over decay_steps
all with an optional linear warm-up over warmup_steps.

`lazy_interval` k > 0 (Karras et al. 2020, lazy regularisation): the player's regulariser runs
every k-th update, so Adam's lr and betas are corrected by c = k / (k + 1): lr * c, b1**c, b2**c.
"""
import optax

OPTIMIZERS = ('adam', 'rmsprop', 'sgd')
SCHEDULES = ('constant', 'linear_decay', 'cosine')


def make_schedule(cfg):
  lr = cfg.learning_rate
  name = cfg.get('schedule', 'constant')
  if name == 'constant':
    schedule = optax.constant_schedule(lr)
  elif name == 'linear_decay':
    start = cfg.get('decay_start_steps', 0)
    schedule = optax.join_schedules(
        [optax.constant_schedule(lr),
         optax.linear_schedule(lr, 0.0, max(cfg.decay_steps - start, 1))], [start])
  elif name == 'cosine':
    schedule = optax.cosine_decay_schedule(lr, max(cfg.decay_steps, 1))
  else:
    raise ValueError(f'Unknown learning-rate schedule {name!r}; valid schedules: {list(SCHEDULES)}.')
  warmup = cfg.get('warmup_steps', 0)
  if warmup:
    schedule = optax.join_schedules([optax.linear_schedule(0.0, lr, warmup), schedule], [warmup])
  return schedule


def make_optimizer(cfg) -> optax.GradientTransformation:
  """Adam (with b1, b2, eps), RMSProp or SGD (momentum) with the configured schedule."""
  lr = make_schedule(cfg)
  b1, b2 = cfg.get('b1', 0.9), cfg.get('b2', 0.999)
  interval = cfg.get('lazy_interval', 0)
  if interval:
    c = interval / (interval + 1)
    base = lr
    lr = lambda count: base(count) * c
    b1, b2 = b1 ** c, b2 ** c
  if cfg.name == 'adam':
    # eps_root > 0 keeps Adam differentiable where a gradient is exactly 0 (unroll_steps > 0
    # differentiates through D's optimiser; d sqrt(v)/dv is infinite at v = 0).
    return optax.adam(lr, b1=b1, b2=b2, eps=cfg.get('eps', 1e-8), eps_root=cfg.get('eps_root', 0.0))
  if cfg.name == 'rmsprop':
    return optax.rmsprop(lr, decay=cfg.get('decay', 0.9), eps=cfg.get('eps', 1e-8))
  if cfg.name == 'sgd':
    return optax.sgd(lr, momentum=cfg.get('momentum', 0.0) or None)
  raise ValueError(f'Unknown optimizer {cfg.name!r}; valid optimizers: {list(OPTIMIZERS)}.')
