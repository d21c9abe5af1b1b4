"""Why an adversarial loss: on a target with two right answers, a mean-squared-error model
predicts their average (off the data), a conditional GAN picks one of them (Ledig et al. 2017's
"MSE vs GAN" argument for SRGAN, on data with a known answer).

python -m gan_research.figures mse_vs_gan --workdir=DIR [--options=num_steps=4000]
writes DIR/figures/mse_vs_gan.png (both models' outputs over the data) and DIR/mse_vs_gan.json.

Data: x ~ U(-1, 1) and y = s f(x) + noise, s = +1 or -1 with equal probability, f(x) = 0.5 +
0.25 sin(pi x) (so the modes are >= 0.5 apart) and noise N(0, 0.02^2). Both models are the same
MLP (models/mlp.py: inputs (x, z) with z ~ N(0, 1), three hidden layers of 64 ReLU, one linear
output): the regressor is trained on the squared error to y, the generator against a
discriminator (the same MLP shape on (x, y)) with the non-saturating loss. The regressor gets z
too, so the comparison is the loss alone: z cannot tell it which mode a given y is in.

Measured on fresh x (with fresh z): `on_mode`, the fraction of outputs within `tolerance` (0.1,
5 noise std) of +f(x) or -f(x); `between`, the fraction strictly between the modes by more than
the tolerance; and for the GAN `upper_share`, the fraction of its on-mode outputs on +f(x) (0.5 is
perfect balance).
"""
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_research import objectives
from gan_research.models import mlp
from gan_research.plots import pyplot

NOISE_STD = 0.02
HIDDEN = (64, 64, 64)


def mode_curve(x):
  """f(x): the targets are +f(x) and -f(x)."""
  return 0.5 + 0.25 * jnp.sin(jnp.pi * x)


def sample_data(rng, n):
  """(x [n, 1], y [n, 1]) of the two-mode conditional distribution."""
  kx, ks, kn = jax.random.split(rng, 3)
  x = jax.random.uniform(kx, (n, 1), minval=-1.0, maxval=1.0)
  sign = jnp.where(jax.random.bernoulli(ks, 0.5, (n, 1)), 1.0, -1.0)
  return x, sign * mode_curve(x) + NOISE_STD * jax.random.normal(kn, (n, 1))


def mode_statistics(x, y_hat, tolerance=0.1) -> dict:
  """on_mode, between (fractions of outputs) and upper_share (of the on-mode outputs)."""
  x, y_hat = np.asarray(x).reshape(-1), np.asarray(y_hat).reshape(-1)
  f = np.asarray(mode_curve(x))
  upper = np.abs(y_hat - f) <= tolerance
  lower = np.abs(y_hat + f) <= tolerance
  on_mode = upper | lower
  between = np.abs(y_hat) < f - tolerance
  return {'on_mode': float(on_mode.mean()), 'between': float(between.mean()),
          'upper_share': float(upper.sum() / max(on_mode.sum(), 1))}


def train_both(seed=0, num_steps=4000, batch_size=256, learning_rate=1e-3):
  """Trains the regressor and the conditional GAN in one compiled scan; returns (predict_mse,
  generate) as functions of (x, z)."""
  generator = mlp.Generator(output_shape=(1,), latent_dim=2, hidden_sizes=HIDDEN)
  discriminator = mlp.Discriminator(hidden_sizes=HIDDEN, activation='leaky_relu')
  objective = objectives.get_objective('nonsaturating')
  k_reg, k_g, k_d, k_train = jax.random.split(jax.random.key(seed), 4)
  probe = jnp.zeros((batch_size, 2))
  params = {'regressor': generator.init(k_reg, probe, train=False)['params'],
            'G': generator.init(k_g, probe, train=False)['params'],
            'D': discriminator.init(k_d, probe, train=False)['params']}
  adam = optax.adam(learning_rate, b1=0.5)
  opt_state = {name: adam.init(p) for name, p in params.items()}
  g_apply = lambda p, x, z: generator.apply({'params': p}, jnp.concatenate([x, z], -1),
                                            train=False)
  d_apply = lambda p, x, y: discriminator.apply({'params': p}, jnp.concatenate([x, y], -1),
                                                train=False)

  def mse_loss(p, x, y, z):
    return jnp.mean(jnp.square(g_apply(p, x, z) - y))

  def d_loss(p, g, x, y, z):
    fake = jax.lax.stop_gradient(g_apply(g, x, z))
    return objective.d_loss(real_logits=d_apply(p, x, y), fake_logits=d_apply(p, x, fake))

  def g_loss(p, d, x, z):
    return objective.g_loss(fake_logits=d_apply(d, x, g_apply(p, x, z)))

  def update(name, grads, params, opt_state):
    updates, new = adam.update(grads, opt_state[name], params[name])
    return ({**params, name: optax.apply_updates(params[name], updates)},
            {**opt_state, name: new})

  def step(carry, i):
    params, opt_state = carry
    k_data, k_z, k_z2 = jax.random.split(jax.random.fold_in(k_train, i), 3)
    x, y = sample_data(k_data, batch_size)
    z, z2 = (jax.random.normal(k, (batch_size, 1)) for k in (k_z, k_z2))
    params, opt_state = update('regressor', jax.grad(mse_loss)(params['regressor'], x, y, z),
                               params, opt_state)
    params, opt_state = update('D', jax.grad(d_loss)(params['D'], params['G'], x, y, z),
                               params, opt_state)
    params, opt_state = update('G', jax.grad(g_loss)(params['G'], params['D'], x, z2),
                               params, opt_state)
    return (params, opt_state), None

  (params, _), _ = jax.jit(lambda c: jax.lax.scan(step, c, jnp.arange(num_steps)))(
      (params, opt_state))
  return (jax.jit(lambda x, z: g_apply(params['regressor'], x, z)),
          jax.jit(lambda x, z: g_apply(params['G'], x, z)))


def run(workdir, *, step=None, seed=0, num_samples=2000, num_steps=4000, tolerance=0.1):
  """Trains both models from scratch, measures them, writes the figure and the numbers."""
  del step  # trains its own models
  if not 1 <= num_steps <= 50_000:
    raise ValueError(f'mse_vs_gan: num_steps must be in [1, 50000]; got {num_steps}.')
  start = time.perf_counter()
  predict_mse, generate = train_both(seed, num_steps)
  k_data, k_z = jax.random.split(jax.random.key(seed + 1))
  x, y = sample_data(k_data, num_samples)
  z = jax.random.normal(k_z, (num_samples, 1))
  outputs = {'mse': np.asarray(predict_mse(x, z)), 'gan': np.asarray(generate(x, z))}
  results = {name: mode_statistics(x, out, tolerance) for name, out in outputs.items()}
  results.update(num_steps=num_steps, seed=seed, tolerance=tolerance, num_samples=num_samples,
                 seconds=round(time.perf_counter() - start, 1))
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, 'mse_vs_gan.json'), 'w') as f:
    json.dump(results, f, indent=2)
  print(json.dumps(results))
  path = os.path.join(workdir, 'figures', 'mse_vs_gan.png')
  _plot(path, np.asarray(x), np.asarray(y), outputs, results)
  return path


def _plot(path, x, y, outputs, results):
  plt = pyplot()
  fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), dpi=80, sharey=True)
  grid = np.linspace(-1, 1, 200)
  curve = np.asarray(mode_curve(grid))
  titles = {'mse': 'MSE regressor', 'gan': 'conditional GAN'}
  for ax, name in zip(axes, ('mse', 'gan')):
    ax.scatter(x[:, 0], y[:, 0], s=2, c='0.75', label='data')
    ax.plot(grid, curve, 'k-', lw=0.8)
    ax.plot(grid, -curve, 'k-', lw=0.8)
    ax.scatter(x[:, 0], outputs[name][:, 0], s=2, c='tab:red', label='model output')
    stats = results[name]
    ax.set_title(f'{titles[name]}: {100 * stats["on_mode"]:.0f}% on a mode, '
                 f'{100 * stats["between"]:.0f}% between', fontsize=9)
    ax.set_xlabel('x')
  axes[0].set_ylabel('y')
  axes[0].legend(loc='lower left', fontsize=7, markerscale=4)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  fig.savefig(path, bbox_inches='tight')
  plt.close(fig)
