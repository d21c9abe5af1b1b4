"""Translation error against a known answer: `config.evals.translation`.

On inverted MNIST (data/translation.py) the correct translation X -> Y is the colour inverse, so
G(x) must equal 1 - x with pixels in [0, 1] (in the models' [-1, 1] range: -x), and F(y) = 1 - y.
Logged values, means over the test split and over pixels, in [0, 1] units:
    translation/l1_error     mean |G(x) - (1 - x)|
    translation/l1_error_f   mean |F(y) - (1 - y)|    (CycleGAN only: pix2pix has no F)
Options: every_steps, num_samples (test images; 0 or absent = the whole split), batch_size.

Unlike the sample-based evaluators it needs the generator itself: it translates the test images
with `ctx.experiment.game.translate` and the parameters of `ctx.state`, in training and from
`python -m gan_research.evaluate --metrics=translation` alike.
"""
import jax
import numpy as np

from gan_research.data import images
from gan_research.metrics.base import Evaluator


class TranslationEvaluator(Evaluator):
  """Mean |T(a) - (1 - a)| of the (EMA) generators on the source's test split."""

  def __init__(self, eval_config, source, workdir=None):
    del workdir
    test = source.test
    if test is None or source.answer != 'colour_inverse':
      # Photos, paintings and super-resolution pairs have test splits too, but no known answer
      # that |T(a) - (1 - a)| would measure.
      raise ValueError('The `translation` evaluator measures against a known answer, the colour '
                       'inverse of dataset=inverted_mnist; this dataset declares none (answer='
                       f'{source.answer!r}). For super-resolution use the `sr` evaluator; for '
                       'unpaired photos, `fid` on the translations.')
    n = int(eval_config.get('num_samples', 0) or len(test['x']))
    self.inputs = {k: images.to_float(v[:n]) for k, v in test.items()}
    self.num_samples = len(self.inputs['x'])
    self.batch_size = int(eval_config.get('batch_size', 500))
    if self.batch_size < 1:
      raise ValueError(f'translation: batch_size must be >= 1; got {self.batch_size}.')
    self._translate = None

  def __call__(self, ctx):
    # Deterministic (ctx.rng unused): every test image, translated in inference mode.
    game, state = ctx.experiment.game, ctx.state
    if not game.translates:
      raise ValueError(f'The `translation` evaluator needs an image-to-image game (cyclegan, '
                       f'pix2pix); config.game={ctx.experiment.config.game!r} does not translate.')
    params = state.sampling_params
    if self._translate is None:
      self._translate = jax.jit(lambda p, s, x, d: game.translate(p, s, x, d), static_argnums=3)
    results = {'translation/l1_error': self.error(params, state.g.state, self.inputs['x'], 'G')}
    if isinstance(params, dict) and 'F' in params:
      results['translation/l1_error_f'] = self.error(params, state.g.state, self.inputs['y'], 'F')
    return results

  def error(self, params, g_state, inputs, direction):
    """Mean |T(a) - (1 - a)| in [0, 1] units: with a, T(a) in [-1, 1], mean |T(a) + a| / 2."""
    total, n, b = 0.0, len(inputs), self.batch_size
    for start in range(0, n, b):
      chunk = inputs[start:start + b]
      padded = np.concatenate([chunk, np.zeros((b - len(chunk),) + chunk.shape[1:], chunk.dtype)])
      out = np.asarray(jax.device_get(self._translate(params, g_state, padded, direction)),
                       np.float32)[:len(chunk)]
      total += float(np.sum(np.abs(out + chunk))) / 2.0
    return total / inputs.size
