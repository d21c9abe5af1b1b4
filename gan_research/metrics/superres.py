"""Super-resolution fidelity on held-out pairs: `config.evals.sr`.

PSNR and SSIM are measured as the SR literature reports them (Ledig et al. 2017 and the
benchmarks it follows): outputs rounded to uint8 like saved images, converted to luminance Y of
ITU-R BT.601 (MATLAB's rgb2ycbcr: Y = 16 + 65.481 R + 128.553 G + 24.966 B for R, G, B in [0, 1];
a grey image is its own luminance), `crop_border` pixels (default: the scale) shaved off each side,
then per image PSNR = 10 log10(255^2 / MSE) and SSIM (Wang et al. 2004: 11x11 Gaussian window of
sigma 1.5, K1 = 0.01, K2 = 0.03, population statistics, the mean over the window positions inside
the image), averaged over the images. Logged:
    sr/psnr, sr/ssim                   G's output for each test input
    sr/psnr_bicubic, sr/ssim_bicubic   the bicubic upsampling of the same input (the baseline)
Options: every_steps, num_samples (test pairs; 0 or absent = all), crop_border, batch_size.

Both numbers reward the average of the plausible answers (the pixel-MSE optimum), so they rank a
blurry output above a sharp one that is off by a few pixels; the realism of the outputs is
measured by `fid` on G's samples (the super-resolution game samples G's outputs for the test
inputs).
"""
import jax
import numpy as np

from gan_research.data import images
from gan_research.metrics.base import Evaluator
from gan_research.ops import resize

_GAUSS_SIGMA, _GAUSS_RADIUS = 1.5, 5  # scikit-image's gaussian_weights window: truncate 3.5


def luminance(images_uint8) -> np.ndarray:
  """Y in [16, 235] (float64 [N, H, W]) of RGB images, or the grey values of 1-channel ones."""
  x = np.asarray(images_uint8, np.float64)
  if x.shape[-1] == 1:
    return x[..., 0]
  if x.shape[-1] != 3:
    raise ValueError(f'Luminance needs 1- or 3-channel NHWC images; got shape {x.shape}.')
  return 16.0 + x @ np.array([65.481, 128.553, 24.966]) / 255.0


def psnr(a, b, data_range=255.0) -> np.ndarray:
  """Per-image PSNR in dB of [N, H, W] arrays; inf for identical images."""
  mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2, axis=(1, 2))
  with np.errstate(divide='ignore'):
    return 10.0 * np.log10(data_range ** 2 / mse)


def _filter(x, taps):
  """Valid-mode separable filtering of [N, H, W] along H then W."""
  k = len(taps)
  h = sum(t * x[:, i:x.shape[1] - k + 1 + i] for i, t in enumerate(taps))
  return sum(t * h[:, :, i:h.shape[2] - k + 1 + i] for i, t in enumerate(taps))


def ssim(a, b, data_range=255.0) -> np.ndarray:
  """Per-image SSIM of [N, H, W] arrays (Wang et al. 2004, Gaussian window; see the module)."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  if min(a.shape[1:]) < 2 * _GAUSS_RADIUS + 1:
    raise ValueError(f'SSIM needs images of at least {2 * _GAUSS_RADIUS + 1} pixels a side '
                     f'(after cropping the border); got {a.shape[1:]}.')
  offsets = np.arange(-_GAUSS_RADIUS, _GAUSS_RADIUS + 1)
  taps = np.exp(-0.5 * (offsets / _GAUSS_SIGMA) ** 2)
  taps /= taps.sum()
  mu_a, mu_b = _filter(a, taps), _filter(b, taps)
  var_a = _filter(a * a, taps) - mu_a ** 2
  var_b = _filter(b * b, taps) - mu_b ** 2
  cov = _filter(a * b, taps) - mu_a * mu_b
  c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
  s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1)
                                                   * (var_a + var_b + c2))
  return s.mean(axis=(1, 2))


def fidelity(outputs_uint8, targets_uint8, crop_border=0) -> dict:
  """{'psnr', 'ssim'}: means over images on luminance with `crop_border` pixels shaved."""
  y_out, y_ref = luminance(outputs_uint8), luminance(targets_uint8)
  if crop_border:
    y_out = y_out[:, crop_border:-crop_border, crop_border:-crop_border]
    y_ref = y_ref[:, crop_border:-crop_border, crop_border:-crop_border]
  return {'psnr': float(np.mean(psnr(y_out, y_ref))), 'ssim': float(np.mean(ssim(y_out, y_ref)))}


class SuperResEvaluator(Evaluator):
  """PSNR / SSIM of G and of bicubic upsampling on the source's held-out pairs."""

  def __init__(self, eval_config, source, workdir=None):
    del workdir
    if source.scale is None or source.test is None:
      raise ValueError('The `sr` evaluator needs a super-resolution dataset (superres_mnist, '
                       'superres_folder).')
    n = int(eval_config.get('num_samples', 0) or len(source.test['x']))
    self.inputs = images.to_float(source.test['x'][:n])
    self.targets = source.test['y'][:n]
    self.num_samples, self.scale = len(self.inputs), source.scale
    self.crop_border = int(eval_config.get('crop_border', source.scale))
    self.batch_size = int(eval_config.get('batch_size', 500))
    if self.batch_size < 1:
      raise ValueError(f'sr: batch_size must be >= 1; got {self.batch_size}.')
    bicubic = self.upscale(lambda x: resize.bicubic_upsample(x, self.scale))
    self.bicubic = fidelity(bicubic, self.targets, self.crop_border)
    self._translate = None

  def upscale(self, fn) -> np.ndarray:
    """uint8 outputs of fn over the test inputs, in fixed-size (padded) batches."""
    out, b = [], min(self.batch_size, self.num_samples)
    for start in range(0, self.num_samples, b):
      chunk = self.inputs[start:start + b]
      padded = np.concatenate([chunk, np.zeros((b - len(chunk),) + chunk.shape[1:], chunk.dtype)])
      out.append(images.to_uint8(jax.device_get(fn(padded)))[:len(chunk)])
    return np.concatenate(out)

  def __call__(self, ctx):
    game, state = ctx.experiment.game, ctx.state
    if not game.translates:
      raise ValueError(f'The `sr` evaluator needs the superres game; config.game='
                       f'{ctx.experiment.config.game!r} does not map images.')
    if self._translate is None:
      self._translate = jax.jit(lambda p, s, x: game.translate(p, s, x))
    params, g_state = state.sampling_params, state.g.state
    ours = fidelity(self.upscale(lambda x: self._translate(params, g_state, x)), self.targets,
                    self.crop_border)
    return {'sr/psnr': ours['psnr'], 'sr/ssim': ours['ssim'],
            'sr/psnr_bicubic': self.bicubic['psnr'], 'sr/ssim_bicubic': self.bicubic['ssim']}
