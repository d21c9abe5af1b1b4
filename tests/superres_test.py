"""Super-resolution: the metrics against scikit-image, the sub-pixel shuffle and the bicubic
pairs against hand computations, the game's losses, exact resumption, and the MSE-vs-GAN toy."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from skimage import color, metrics as skmetrics

from gan_research import config_lib, games, train
from gan_research.data import images, superres as superres_data
from gan_research.figures import mse_vs_gan
from gan_research.metrics import superres
from gan_research.metrics.translation import TranslationEvaluator
from gan_research.models import srgan


def test_psnr_and_ssim_on_luminance_match_scikit_image():
  rng = np.random.default_rng(0)
  target = rng.integers(0, 256, (3, 24, 20, 3), dtype=np.uint8)
  noisy = np.clip(target + rng.normal(0, 20, target.shape), 0, 255).astype(np.uint8)
  ours = superres.fidelity(noisy, target, crop_border=2)
  # scikit-image's rgb2ycbcr is MATLAB's: Y in [16, 235].
  y_noisy, y_target = (color.rgb2ycbcr(a)[..., 0] for a in (noisy, target))
  np.testing.assert_allclose(superres.luminance(noisy), y_noisy, atol=1e-9)
  crop = (slice(None), slice(2, -2), slice(2, -2))
  ref_psnr = [skmetrics.peak_signal_noise_ratio(t, n, data_range=255)
              for t, n in zip(y_target[crop], y_noisy[crop])]
  ref_ssim = [skmetrics.structural_similarity(t, n, data_range=255, gaussian_weights=True,
                                              sigma=1.5, use_sample_covariance=False)
              for t, n in zip(y_target[crop], y_noisy[crop])]
  assert ours['psnr'] == pytest.approx(np.mean(ref_psnr), abs=1e-9)
  assert ours['ssim'] == pytest.approx(np.mean(ref_ssim), abs=1e-9)
  assert 0.5 < ours['ssim'] < 0.99 and ours['psnr'] < 30  # a real degradation, not identity
  # Grey images are their own luminance.
  grey = superres.fidelity(noisy[..., :1], target[..., :1])
  assert grey['psnr'] == pytest.approx(np.mean([skmetrics.peak_signal_noise_ratio(
      t[..., 0], n[..., 0], data_range=255) for t, n in zip(target, noisy)]), abs=1e-9)


def test_pixel_shuffle_matches_hand_computation():
  r, c_out = 2, 3
  x = np.random.default_rng(1).normal(size=(2, 3, 4, c_out * r * r)).astype(np.float32)
  out = np.asarray(srgan.pixel_shuffle(jnp.asarray(x), r))
  assert out.shape == (2, 6, 8, c_out)
  for n in range(2):
    for h in range(3):
      for w in range(4):
        for k in range(c_out):
          for i in range(r):
            for j in range(r):
              assert out[n, h * r + i, w * r + j, k] == x[n, h, w, k * r * r + i * r + j]


def _matlab_imresize_down(image, scale):
  """MATLAB imresize(image, 1/scale, 'bicubic') of a 2-D array, written from its definition:
  Keys' cubic (a = -0.5) stretched by scale, centres (u + 0.5) * scale - 0.5, mirror padding."""
  def cubic(t):
    t = np.abs(t)
    return np.where(t <= 1, 1.5 * t ** 3 - 2.5 * t ** 2 + 1,
                    np.where(t <= 2, -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2, 0.0))

  def weights(size):
    out = np.zeros((size // scale, size))
    for u in range(size // scale):
      centre = (u + 0.5) * scale - 0.5
      taps = np.arange(int(np.floor(centre - 2 * scale)), int(np.ceil(centre + 2 * scale)) + 1)
      w = cubic((taps - centre) / scale)
      mirrored = np.where(taps < 0, -taps - 1, np.where(taps >= size, 2 * size - taps - 1, taps))
      np.add.at(out[u], mirrored, w / w.sum())
    return out

  return weights(image.shape[0]) @ image.astype(np.float64) @ weights(image.shape[1]).T


def test_low_resolution_input_is_the_bicubic_downsampling_of_the_target():
  rng = np.random.default_rng(2)
  train_images = rng.integers(0, 256, (20, 36, 36, 1), dtype=np.uint8)
  source = superres_data.SuperResSource(train_images, train_images[:4], image_size=32, scale=4,
                                        flip=True)
  batch = source.get_batch(3, d_steps=2, batch_size=4)
  assert batch['x'].shape == (2, 4, 8, 8, 1) and batch['y'].shape == (2, 4, 32, 32, 1)
  hr, lr = images.to_uint8(batch['y']), images.to_uint8(batch['x'])
  for high, low in zip(hr.reshape(-1, 32, 32), lr.reshape(-1, 8, 8)):
    matlab = _matlab_imresize_down(high, 4)
    # Pixels whose kernel support (16 px) lies inside the image: MATLAB's value, then rounded.
    np.testing.assert_array_equal(low[2:-2, 2:-2], np.clip(np.round(matlab[2:-2, 2:-2]), 0, 255))
  # The held-out pairs are made the same way; a crop is a crop of the training images.
  np.testing.assert_array_equal(source.test['x'], superres_data.downsample_uint8(
      source.test['y'], 4))
  assert not np.array_equal(batch['y'][0], batch['y'][1])


def _config(data_dir, **overrides):
  c = config_lib.base_config()
  c.game, c.model, c.dataset, c.data_dir, c.image_size = ('superres', 'srgan', 'superres_mnist',
                                                          data_dir, 28)
  c.data = {'scale': 4}
  c.game_kw = {'adversarial_weight': 1e-3}
  c.generator = {'scale': 4, 'width': 8, 'num_blocks': 1}
  c.discriminator = {'width': 8, 'num_stages': 2, 'dense_width': 16}
  c.batch_size, c.num_train_steps = 8, 4
  c.log_every_steps = c.checkpoint_every_steps = c.sample_every_steps = 2
  c.evals.sr = {'every_steps': 0, 'num_samples': 16}
  c.update(overrides)
  return c


def test_losses_are_mse_plus_weighted_adversarial_and_srresnet_leaves_d_alone(
    synthetic_mnist_dir):
  experiment = train.build(_config(synthetic_mnist_dir))
  game = experiment.game
  state = experiment.init_state(jax.random.key(0))
  batch = jax.tree.map(lambda a: jnp.asarray(a[0]),
                       experiment.source.get_batch(0, d_steps=1, batch_size=8))
  g_params, g_state, d_params, d_state = state.g.params, state.g.state, state.d.params, state.d.state
  loss, (_, _, m) = game.g_loss(g_params, g_state, d_params, d_state, {}, batch, None, True)
  fake = games.apply(game.generator, g_params, g_state, batch['x'], train=True)[0]
  logits = game.discriminate(d_params, d_state, fake)[0]
  content = np.mean((np.asarray(fake) - np.asarray(batch['y'])) ** 2)
  adversarial = np.mean(np.logaddexp(0, -np.asarray(logits)))  # -log sigmoid(D(G(x)))
  assert float(m['loss/content']) == pytest.approx(content, rel=1e-5)
  assert float(loss) == pytest.approx(content + 1e-3 * adversarial, rel=1e-5)
  srresnet = train.build(_config(synthetic_mnist_dir, game_kw={'adversarial_weight': 0.0}))
  loss0, _ = srresnet.game.g_loss(g_params, g_state, d_params, d_state, {}, batch, None, True)
  assert float(loss0) == pytest.approx(content, rel=1e-5)
  d_grads = jax.grad(lambda p: srresnet.game.d_loss(p, d_state, g_params, g_state, {}, batch,
                                                    None, True)[0])(d_params)
  assert all(float(jnp.abs(g).max()) == 0 for g in jax.tree.leaves(d_grads))
  with pytest.raises(ValueError, match='config.data.scale'):
    train.build(_config(synthetic_mnist_dir, generator={'scale': 2, 'width': 8}))


def test_srgan_resumes_bit_identically_and_reports_sr_metrics(tmp_path, synthetic_mnist_dir):
  full = train.train_and_evaluate(_config(synthetic_mnist_dir), str(tmp_path / 'full'))
  train.train_and_evaluate(_config(synthetic_mnist_dir, num_train_steps=2),
                           str(tmp_path / 'resumed'))
  resumed = train.train_and_evaluate(_config(synthetic_mnist_dir), str(tmp_path / 'resumed'))
  assert int(resumed.step) == 4
  for a, b in zip(jax.tree.leaves(full), jax.tree.leaves(resumed)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  rows = [l for l in (tmp_path / 'full' / 'metrics.jsonl').read_text().splitlines()
          if 'sr/psnr' in l]
  assert len(rows) == 1 and 'sr/ssim_bicubic' in rows[0]
  # The translation figure and evaluator are for other pairs: they refuse with a pointer.
  from gan_research.figures import translation as translation_figure
  with pytest.raises(ValueError, match='super_resolution'):
    translation_figure.run(str(tmp_path / 'full'))
  with pytest.raises(ValueError, match='`sr` evaluator'):
    TranslationEvaluator({}, train.build(_config(synthetic_mnist_dir)).source)


def test_mse_averages_the_two_modes_and_the_gan_picks_one():
  # A short run of the figure's models (the figure's 4,000 steps give 98% on a mode).
  predict_mse, generate = mse_vs_gan.train_both(seed=0, num_steps=1500)
  x, _ = mse_vs_gan.sample_data(jax.random.key(5), 1000)
  z = jax.random.normal(jax.random.key(6), (1000, 1))
  mse = mse_vs_gan.mode_statistics(x, predict_mse(x, z))
  gan = mse_vs_gan.mode_statistics(x, generate(x, z))
  assert mse['between'] > 0.9 and mse['on_mode'] < 0.05
  assert gan['on_mode'] > 0.8 and 0.3 < gan['upper_share'] < 0.7
