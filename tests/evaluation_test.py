"""Sample-based evaluation: the digit classifier, extractors, evaluators, caching, Stacked MNIST.

A deliberately tiny classifier (width 8, 150 steps on 6k images) keeps this file fast on a CPU;
the checks are on real behaviour: accuracy and the Inception Score of real digits far above
chance, evaluator outputs equal to the formulas applied to the same features, the real-data cache
reused without touching the data again.
"""
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from gan_research import config_lib, metrics, train
from gan_research.data import images as image_data
from gan_research.metrics import digit_classifier, evaluators, extractors, reference

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_DIR = os.environ.get(config_lib.SHARED_DATA_ENV) or os.path.join(REPO, '..', 'shared',
                                                                      'data', 'mnist')

TINY = dict(width=8, hidden=64, num_classes=10)
N = 500  # generated and reference images per metric in these tests


@pytest.fixture(scope='module')
def mnist():
  if not image_data.has_mnist_idx(MNIST_DIR):  # fail, not skip: CI must not pass without them
    pytest.fail(f'MNIST IDX files not found in {MNIST_DIR}; set {config_lib.SHARED_DATA_ENV}.')
  train_x, train_y = image_data.load_mnist_idx(MNIST_DIR, 'train')
  test_x, test_y = image_data.load_mnist_idx(MNIST_DIR, 'test')
  return train_x[:6000], train_y[:6000], test_x[:2000], test_y[:2000]


@pytest.fixture(scope='module')
def classifier_dir(mnist, tmp_path_factory):
  train_x, train_y, test_x, test_y = mnist
  params = digit_classifier.train(train_x, train_y, epochs=2, batch_size=64, learning_rate=3e-3,
                                  max_steps=150, architecture=TINY, log_every=0)
  path = str(tmp_path_factory.mktemp('classifier'))
  clf = digit_classifier.DigitClassifier(params, TINY)
  digit_classifier.save_classifier(path, params, TINY,
                                   {'test_accuracy': digit_classifier.accuracy(clf, test_x,
                                                                               test_y)})
  return path


@pytest.fixture(scope='module')
def classifier(classifier_dir):
  return digit_classifier.load_classifier(classifier_dir)


def test_brief_training_beats_chance_and_survives_save_load(mnist, classifier_dir, classifier):
  _, _, test_x, test_y = mnist
  acc = digit_classifier.accuracy(classifier, test_x, test_y)
  assert acc > 0.85  # chance is 0.1
  with open(os.path.join(classifier_dir, digit_classifier.CONFIG_FILE)) as f:
    saved = json.load(f)
  assert saved['architecture'] == TINY and saved['input_size'] == 28
  assert saved['test_accuracy'] == pytest.approx(acc)  # the restored params are the trained ones


def test_features_probs_shapes_batching_and_32px_crop(mnist, classifier):
  x = image_data.to_float(mnist[2][:700])  # 700 = one full batch of 500 and a padded one
  feats, probs = classifier.features_and_probs(x)
  assert feats.shape == (700, 64) and probs.shape == (700, 10)
  np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
  np.testing.assert_allclose(classifier.features(x[:3]), feats[:3], rtol=1e-5, atol=1e-5)
  padded = image_data.to_float(image_data.resize(mnist[2][:700], 32))
  np.testing.assert_allclose(classifier.probs(padded), probs, rtol=1e-5, atol=1e-6)


def test_classifier_rejects_bad_images(classifier):
  with pytest.raises(ValueError, match=r'\[-1, 1\].*to_float'):
    classifier.probs(np.full((2, 28, 28, 1), 255.0))
  with pytest.raises(ValueError, match='channel'):
    classifier.probs(np.zeros((2, 28, 28, 3)))
  with pytest.raises(FileNotFoundError, match='train_classifier'):
    digit_classifier.load_classifier('/nonexistent/classifier')


def test_inception_score_of_real_digits_is_high(mnist, classifier):
  mean, _ = metrics.inception_score(classifier.probs(image_data.to_float(mnist[2])))
  assert mean > 6.0  # 1 for a constant prediction, 10 for confident uniform digits


def test_extractor_registry_errors(classifier_dir):
  with pytest.raises(ValueError, match=r"valid extractors: \['fid_inception', 'fid_mnist', "
                                       r"'inception'\]"):
    extractors.get_extractor('vgg16')
  with pytest.raises(ValueError, match='inception_weights'):  # never a silent fallback
    extractors.get_extractor('fid_inception')
  with pytest.raises(ValueError, match='classifier_path'):
    extractors.get_extractor('fid_mnist')
  ext = extractors.get_extractor('fid_mnist', classifier_path=classifier_dir)
  assert ext.name == 'fid_mnist' and ext.cache_key.startswith('fid_mnist-')


def _eval_config(classifier_dir, **extra):
  return dict(every_steps=100, num_samples=N, num_reference=N, extractor='fid_mnist',
              classifier_path=classifier_dir, dataset='mnist', data_dir=MNIST_DIR,
              image_size=32, **extra)


def _context(sample_fn, rng=None):
  """An EvalContext for evaluators that only sample (no experiment, state or workdir)."""
  return metrics.EvalContext(None, None, sample_fn, jax.random.key(0) if rng is None else rng)


def _fake_sampler(mnist):
  """'Generated' images: real training digits at 32x32, as a padded-MNIST GAN would give."""
  fakes = image_data.to_float(image_data.resize(mnist[0][:N], 32))
  calls = []

  def sample_fn(rng, n):
    calls.append(n)
    return fakes[:n]

  return sample_fn, calls


def test_evaluators_match_formulas_and_cache_real_features(mnist, classifier, classifier_dir,
                                                            tmp_path, monkeypatch):
  workdir = str(tmp_path)
  sample_fn, _ = _fake_sampler(mnist)
  cfg = _eval_config(classifier_dir)
  built = {name: metrics.EVALUATORS[name](cfg, None, workdir) for name in ('fid', 'kid', 'is',
                                                                            'pr')}
  rng = jax.random.key(0)
  out = {}
  for ev in built.values():
    out.update(ev(_context(sample_fn, rng)))

  test_x = image_data.to_float(image_data.resize(mnist[2][:N], 32))
  real_f, _ = classifier.features_and_probs(test_x)
  fake_f, fake_p = classifier.features_and_probs(sample_fn(rng, N))
  expected = {'fid/fid_mnist': metrics.fid(real_f, fake_f)}
  expected.update(zip(('kid/fid_mnist_mean', 'kid/fid_mnist_std'), metrics.kid(real_f, fake_f)))
  expected.update(zip(('is/fid_mnist_mean', 'is/fid_mnist_std'),
                      metrics.inception_score(fake_p)))
  expected.update(zip(('pr/fid_mnist_precision', 'pr/fid_mnist_recall'),
                      metrics.precision_recall(real_f, fake_f)))
  assert set(out) == set(expected)
  for key, value in expected.items():
    assert out[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
  assert 0 < out['fid/fid_mnist'] and 0.3 < out['pr/fid_mnist_precision'] <= 1

  cached = [f for f in os.listdir(os.path.join(workdir, reference.CACHE_DIR))
            if f.endswith('.npz')]
  assert len(cached) == 1 and cached[0].startswith(f'real_mnist_test_{N}_fid_mnist-')
  path = os.path.join(workdir, reference.CACHE_DIR, cached[0])
  mtime = os.stat(path).st_mtime_ns

  # A fresh evaluator (as after a restart) must read the cache, never the dataset.
  def no_data(*args, **kwargs):
    raise AssertionError('real features were recomputed instead of read from the cache')

  monkeypatch.setattr(reference.data, 'get_source', no_data)
  again = metrics.EVALUATORS['fid'](cfg, None, workdir)(_context(sample_fn, rng))
  assert again['fid/fid_mnist'] == pytest.approx(out['fid/fid_mnist'], rel=1e-6)
  assert os.stat(path).st_mtime_ns == mtime


def test_run_evaluators_samples_and_extracts_once(mnist, classifier_dir, tmp_path):
  sample_fn, calls = _fake_sampler(mnist)
  built = [metrics.EVALUATORS[name](_eval_config(classifier_dir), None, str(tmp_path))
           for name in ('fid', 'is', 'pr')]
  extractions = []
  for ev in built:
    inner = ev.extract
    ev.extract = lambda x, inner=inner: extractions.append(len(x)) or inner(x)
  alone = {}
  for ev in built:
    alone.update(ev(_context(sample_fn)))
  calls.clear()
  extractions.clear()
  shared = metrics.run_evaluators(built, _context(sample_fn))
  assert calls == [N] and extractions == [N]
  assert shared == pytest.approx(alone)


def test_fid_and_kid_share_one_extraction(mnist, classifier_dir, tmp_path, monkeypatch):
  # Two evaluators, each with its own Extractor object for the same network: the feature key
  # (network and weights) makes run_evaluators extract once, counted at the extractor itself.
  sample_fn, _ = _fake_sampler(mnist)
  fid, kid = (metrics.EVALUATORS[name](_eval_config(classifier_dir), None, str(tmp_path))
              for name in ('fid', 'kid'))
  assert fid.extractor is not kid.extractor
  for ev in (fid, kid):  # the reference's features, computed (and cached) before counting
    assert ev.real.features.shape[0] == N
  alone = {**fid(_context(sample_fn)), **kid(_context(sample_fn))}
  seen = []
  inner = extractors.Extractor.__call__
  monkeypatch.setattr(extractors.Extractor, '__call__',
                      lambda self, images: seen.append(len(images)) or inner(self, images))
  shared = metrics.run_evaluators([fid, kid], _context(sample_fn))
  assert seen == [N]
  assert shared == pytest.approx(alone) and set(shared) == {
      'fid/fid_mnist', 'kid/fid_mnist_mean', 'kid/fid_mnist_std'}


def test_reference_needs_a_dataset_and_enough_images(classifier_dir, tmp_path):
  cfg = _eval_config(classifier_dir)
  del cfg['dataset']
  with pytest.raises(ValueError, match='dataset='):
    metrics.EVALUATORS['fid'](cfg, None, str(tmp_path))
  cfg = _eval_config(classifier_dir, reference_split='test')
  cfg['num_reference'] = 10_001
  ev = metrics.EVALUATORS['fid'](cfg, None, str(tmp_path))
  with pytest.raises(ValueError, match='fewer than the 10001'):
    ev.real  # pylint: disable=pointless-statement


def test_reference_dataset_defaults_to_the_run_config(classifier_dir, tmp_path):
  config = config_lib.base_config()
  config.dataset, config.data_dir, config.image_size = 'mnist', MNIST_DIR, 28
  (tmp_path / 'config.json').write_text(config.to_json())
  cfg = dict(num_samples=N, classifier_path=classifier_dir)
  ev = metrics.EVALUATORS['fid'](cfg, None, str(tmp_path))
  assert (ev.data_config.dataset, ev.data_config.image_size, ev.split) == ('mnist', 28, 'test')


def test_stacked_mnist_mode_statistics_on_hand_made_probabilities():
  eye = np.eye(10)
  all_triples = np.array([[a, b, c] for a in range(10) for b in range(10) for c in range(10)])
  stats = evaluators.stacked_mnist_mode_statistics(eye[all_triples])  # [1000, 3, 10]
  assert stats == {'modes': 1000, 'kl': pytest.approx(0.0, abs=1e-12)}
  one_mode = np.tile(eye[[3, 1, 4]], (26, 1, 1))
  stats = evaluators.stacked_mnist_mode_statistics(one_mode)
  assert stats['modes'] == 1 and stats['kl'] == pytest.approx(np.log(1000))
  # Soft probabilities count by their argmax; two equally filled modes: KL = log(1000 / 2).
  soft = np.full((4, 3, 10), 0.05)
  soft[:2, :, 7] = 0.55
  soft[2:, 0, 2] = soft[2:, 1, 5] = soft[2:, 2, 9] = 0.55
  stats = evaluators.stacked_mnist_mode_statistics(soft)
  assert stats['modes'] == 2 and stats['kl'] == pytest.approx(np.log(500))
  assert evaluators.stacked_mnist_mode_statistics(np.array([[1, 2, 3], [1, 2, 3]]))['modes'] == 1
  with pytest.raises(ValueError, match=r'\[N, 3, 10\]'):
    evaluators.stacked_mnist_mode_statistics(np.zeros((5, 10)))
  with pytest.raises(ValueError, match='0..9'):
    evaluators.stacked_mnist_mode_statistics(np.array([[1, 2, 10]]))


def test_stacked_mnist_evaluator_classifies_each_channel(mnist, classifier, classifier_dir):
  test_x = image_data.to_float(mnist[2][:300])
  rgb = np.concatenate([test_x[:100], test_x[100:200], test_x[200:]], axis=-1)  # [100, 28, 28, 3]
  ev = metrics.EVALUATORS['stacked_mnist'](
      dict(num_samples=100, classifier_path=classifier_dir), None, None)
  assert ev.num_samples == 100 and evaluators.STACKED_MNIST_SAMPLES == 26_000
  channel_probs = ev.extract(rgb)
  digits = classifier.probs(test_x).argmax(1).reshape(3, 100).T
  np.testing.assert_array_equal(channel_probs.argmax(-1), digits)
  out = ev(_context(lambda rng, n: rgb[:n]))
  expected = evaluators.stacked_mnist_mode_statistics(digits)
  assert out == {'stacked_mnist/modes': expected['modes'],
                 'stacked_mnist/kl': pytest.approx(expected['kl'])}
  # Counted here: the distinct (digit, digit, digit) triples the classifier read.
  assert out['stacked_mnist/modes'] == len({tuple(t) for t in digits})
  with pytest.raises(ValueError, match='3-channel'):
    ev.extract(test_x)


def test_evaluate_cli_without_checkpoint_is_a_clear_error(tmp_path):
  # A subprocess, as users run it (and evaluate.py's flags stay out of this test process).
  config = config_lib.base_config()  # ring8: builds without data files
  (tmp_path / 'config.json').write_text(config.to_json())
  run = subprocess.run([sys.executable, '-m', 'gan_research.evaluate', f'--workdir={tmp_path}',
                        '--metrics=fid'], cwd=REPO, capture_output=True, text=True, check=False)
  assert run.returncode != 0
  assert 'FileNotFoundError: No checkpoint in' in run.stderr
  assert not (tmp_path / 'metrics.jsonl').exists()


def test_evaluate_cli_prints_values_and_the_classifier_that_gave_them(mnist, classifier,
                                                                        classifier_dir, tmp_path):
  config = config_lib.base_config()
  config.model, config.dataset, config.data_dir, config.image_size = 'dcgan', 'mnist', MNIST_DIR, 28
  config.generator, config.discriminator = dict(latent_dim=8, base_width=4), dict(base_width=4)
  config.batch_size, config.num_train_steps = 8, 2
  config.log_every_steps = config.checkpoint_every_steps = config.sample_every_steps = 2
  train.train_and_evaluate(config, str(tmp_path))
  run = subprocess.run([sys.executable, '-m', 'gan_research.evaluate', f'--workdir={tmp_path}',
                        '--metrics=fid,is', '--num_samples=200', f'--classifier={classifier_dir}'],
                       cwd=REPO, capture_output=True, text=True, check=False)
  assert run.returncode == 0, run.stderr[-2000:]
  result = json.loads(run.stdout.strip().splitlines()[-1])
  assert (result['step'], result['extractor'], result['num_samples']) == (2, 'fid_mnist', 200)
  assert result['feature_networks'] == {'fid_mnist': {
      'fingerprint': classifier.fingerprint, 'path': os.path.abspath(classifier_dir),
      'test_accuracy': classifier.info['test_accuracy']}}  # the fixture saved no epochs
  assert sorted(result['values']) == ['fid/fid_mnist', 'is/fid_mnist_mean', 'is/fid_mnist_std']
  # The Inception Score of the same 200 samples (seed 0, the run's generator), computed here.
  experiment, state = train.restore(str(tmp_path))
  samples = experiment.make_sampler()(state, jax.random.key(0), 200)
  expected = metrics.inception_score(classifier.features_and_probs(samples)[1])
  assert result['values']['is/fid_mnist_mean'] == pytest.approx(expected[0], rel=1e-4)
  assert result['values']['is/fid_mnist_std'] == pytest.approx(expected[1], rel=1e-3, abs=1e-6)
  rows = [json.loads(line) for line in open(tmp_path / 'metrics.jsonl')]
  assert rows[-1] == {'step': 2, **result['values']}
