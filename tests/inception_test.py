"""FID InceptionV3: pytorch-fid state_dict mapping, a torch cross-check, errors, parameter count.

No real weights are needed: random weights with pytorch-fid's exact key names and shapes exercise
the loader, and a torch re-implementation of pytorch-fid's network (torchvision's blocks with the
FIDInceptionA/C/E_1/E_2 patches, written out here because torchvision is not a dependency) run on
the same random weights checks the layout conventions (OIHW -> HWIO, asymmetric 1x7 / 7x1
padding, count_include_pad=False, E_2's max pool, BN eps) and the resize, to float tolerance.
Small checks use 139x139 inputs, not the minimum 75: at 75 the Mixed_7 blocks see 1x1 maps, where
E_2's max pool, the avg pools and the 1x3/3x1 paddings all reduce to the identity and would go
untested (at 139 they see 3x3). One end-to-end check runs at 299.
"""
import numpy as np
import pytest

from gan_research.metrics import extractors, inception

try:
  import torch
  from torch import nn as tnn
  from torch.nn import functional as F
except ImportError:
  torch = None

needs_torch = pytest.mark.skipif(torch is None, reason='torch is not installed: the torch '
                                 'cross-check of layouts and the .pth loading are skipped')

# From pytorch-fid's fid_inception_v3(): 94 BasicConv2d (conv.weight + 4 BN tensors each) + fc.
NUM_STATE_DICT_KEYS = 94 * 5 + 2
SMALL = 139  # pixels; see the module docstring
SPOT_SHAPES = {
    'Conv2d_1a_3x3.conv.weight': (32, 3, 3, 3),
    'Conv2d_4a_3x3.bn.running_var': (192,),
    'Mixed_5b.branch_pool.conv.weight': (32, 192, 1, 1),
    'Mixed_6a.branch3x3.conv.weight': (384, 288, 3, 3),
    'Mixed_6b.branch7x7_2.conv.weight': (128, 128, 1, 7),
    'Mixed_6e.branch7x7dbl_2.conv.weight': (192, 192, 7, 1),
    'Mixed_7a.branch7x7x3_4.conv.weight': (192, 192, 3, 3),
    'Mixed_7c.branch3x3dbl_3b.conv.weight': (384, 384, 3, 1),
    'Mixed_7c.branch_pool.bn.weight': (192,),
    'fc.weight': (1008, 2048),
    'fc.bias': (1008,),
}
# All state_dict tensors (BN running statistics included); 23,850,960 of them are trained.
NUM_WEIGHTS = 23_885_392
NUM_TRAINED = 23_850_960


def random_state_dict(seed=0):
  """pytorch-fid-shaped weights whose activations stay O(1) through all 94 conv layers."""
  rng = np.random.default_rng(seed)
  state = {}
  for key, shape in inception.expected_state_dict_shapes().items():
    if key.endswith('conv.weight'):
      fan_in = np.prod(shape[1:])
      value = rng.normal(0, np.sqrt(2 / fan_in), shape)
    elif key.endswith('running_var'):
      value = rng.uniform(0.5, 2.0, shape)
    elif key.endswith('bn.weight'):
      value = rng.uniform(0.5, 1.5, shape)
    elif key == 'fc.weight':
      value = rng.normal(0, 1 / np.sqrt(shape[1]), shape)
    else:  # BN bias, running_mean, fc.bias
      value = rng.normal(0, 0.1, shape)
    state[key] = value.astype(np.float32)
  return state


@pytest.fixture(scope='module')
def state_dict():
  return random_state_dict()


@pytest.fixture(scope='module')
def npz_path(state_dict, tmp_path_factory):
  path = str(tmp_path_factory.mktemp('weights') / 'pt_inception.npz')
  np.savez(path, **state_dict)
  return path


def test_state_dict_keys_and_shapes_are_pytorch_fids():
  shapes = inception.expected_state_dict_shapes()
  assert len(shapes) == NUM_STATE_DICT_KEYS
  for key, shape in SPOT_SHAPES.items():
    assert shapes[key] == shape, key
  assert not any('AuxLogits' in key for key in shapes)  # aux_logits=False in pytorch-fid
  assert sum(int(np.prod(s)) for s in shapes.values()) == NUM_WEIGHTS
  trained = sum(int(np.prod(s)) for k, s in shapes.items()
                if not k.endswith(('running_mean', 'running_var')))
  assert trained == NUM_TRAINED


def test_flax_tree_round_trips_through_npz(npz_path, state_dict):
  variables = inception.from_state_dict(inception.read_state_dict(npz_path))
  assert set(variables) == {'params', 'batch_stats'}
  # Layout spot checks: conv OIHW -> HWIO, Linear [out, in] -> [in, out], BN names.
  conv = variables['params']['Mixed_6b']['branch7x7_2']['conv']['kernel']
  np.testing.assert_array_equal(conv, state_dict['Mixed_6b.branch7x7_2.conv.weight']
                                .transpose(2, 3, 1, 0))
  assert conv.shape == (1, 7, 128, 128)
  np.testing.assert_array_equal(variables['params']['fc']['kernel'], state_dict['fc.weight'].T)
  np.testing.assert_array_equal(variables['batch_stats']['Mixed_7c']['branch_pool']['bn']['var'],
                                state_dict['Mixed_7c.branch_pool.bn.running_var'])
  np.testing.assert_array_equal(variables['params']['Conv2d_1a_3x3']['bn']['scale'],
                                state_dict['Conv2d_1a_3x3.bn.weight'])
  back = inception.to_state_dict(variables)
  assert set(back) == set(state_dict)
  for key, value in state_dict.items():
    np.testing.assert_array_equal(back[key], value, err_msg=key)


def test_flax_shaped_values_survive_the_inverse_mapping(tmp_path):
  """Values made in the Flax tree -> torch names/layout -> file -> Flax again: unchanged."""
  import jax
  from flax import traverse_util
  abstract = traverse_util.flatten_dict(dict(jax.eval_shape(inception.init_variables)))
  rng = np.random.default_rng(1)
  flat = {key: rng.normal(size=leaf.shape).astype(np.float32) for key, leaf in abstract.items()}
  path = str(tmp_path / 'w.npz')
  np.savez(path, **inception.to_state_dict(traverse_util.unflatten_dict(flat)))
  loaded = traverse_util.flatten_dict(inception.from_state_dict(inception.read_state_dict(path)))
  assert set(loaded) == set(flat)
  for key, value in flat.items():
    np.testing.assert_array_equal(loaded[key], value, err_msg=str(key))


@needs_torch
def test_pth_loads_with_torch_like_the_npz(state_dict, tmp_path):
  torch_state = {k: torch.from_numpy(v) for k, v in state_dict.items()}
  # Recent torch BatchNorm state_dicts carry these buffers; they must be accepted and ignored.
  torch_state['Mixed_5b.branch1x1.bn.num_batches_tracked'] = torch.tensor(0)
  path = str(tmp_path / inception.WEIGHTS_FILE)
  torch.save(torch_state, path)
  read = inception.read_state_dict(path)
  back = inception.to_state_dict(inception.from_state_dict(read))
  for key, value in state_dict.items():
    np.testing.assert_array_equal(back[key], value, err_msg=key)


def test_missing_file_explains_where_to_get_the_weights(tmp_path):
  with pytest.raises(FileNotFoundError, match='pytorch-fid/releases/download/fid_weights'):
    inception.read_state_dict(str(tmp_path / 'nope.pth'))
  with pytest.raises(ValueError, match='inception_weights='):
    extractors.get_extractor('fid_inception')
  with pytest.raises(ValueError, match=inception.WEIGHTS_FILE):
    extractors.get_extractor('fid_inception', inception_weights=None)


def test_wrong_keys_and_shapes_are_named(state_dict):
  bad = dict(state_dict)
  del bad['Mixed_6c.branch7x7_3.bn.running_mean']
  bad['AuxLogits.fc.weight'] = np.zeros((1008, 768), np.float32)
  bad['fc.bias'] = np.zeros((1000,), np.float32)
  with pytest.raises(ValueError) as error:
    inception.from_state_dict(bad)
  message = str(error.value)
  assert '1 missing keys: Mixed_6c.branch7x7_3.bn.running_mean' in message
  assert '1 unexpected keys: AuxLogits.fc.weight' in message
  assert 'fc.bias: got (1000,), expected (1008,)' in message


def test_input_handling_grey_and_range():
  grey = np.linspace(-1, 1, 2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28, 1)
  x = np.asarray(inception.to_inception_input(grey))
  assert x.shape == (2, 299, 299, 3)
  np.testing.assert_array_equal(x[..., 0], x[..., 2])
  assert x.min() >= -1 and x.max() <= 1
  with pytest.raises(ValueError, match=r'\[-1, 1\]'):
    inception.check_images(grey * 255)
  with pytest.raises(ValueError, match='1 or 3 channel'):
    inception.check_images(np.zeros((2, 28, 28, 2)))


# --- torch cross-check: pytorch-fid's network, written independently of the Flax one. ---

if torch is not None:

  class TorchConv(tnn.Module):
    def __init__(self, cin, cout, kernel_size, stride=1, padding=0):
      super().__init__()
      self.conv = tnn.Conv2d(cin, cout, kernel_size, stride=stride, padding=padding, bias=False)
      self.bn = tnn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
      return F.relu(self.bn(self.conv(x)))

  def torch_avg_pool(x):
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)

  class TorchA(tnn.Module):
    def __init__(self, cin, pool_features):
      super().__init__()
      self.branch1x1 = TorchConv(cin, 64, 1)
      self.branch5x5_1 = TorchConv(cin, 48, 1)
      self.branch5x5_2 = TorchConv(48, 64, 5, padding=2)
      self.branch3x3dbl_1 = TorchConv(cin, 64, 1)
      self.branch3x3dbl_2 = TorchConv(64, 96, 3, padding=1)
      self.branch3x3dbl_3 = TorchConv(96, 96, 3, padding=1)
      self.branch_pool = TorchConv(cin, pool_features, 1)

    def forward(self, x):
      return torch.cat([
          self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)),
          self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
          self.branch_pool(torch_avg_pool(x))], 1)

  class TorchB(tnn.Module):
    def __init__(self, cin):
      super().__init__()
      self.branch3x3 = TorchConv(cin, 384, 3, stride=2)
      self.branch3x3dbl_1 = TorchConv(cin, 64, 1)
      self.branch3x3dbl_2 = TorchConv(64, 96, 3, padding=1)
      self.branch3x3dbl_3 = TorchConv(96, 96, 3, stride=2)

    def forward(self, x):
      return torch.cat([
          self.branch3x3(x), self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
          F.max_pool2d(x, 3, stride=2)], 1)

  class TorchC(tnn.Module):
    def __init__(self, cin, c7):
      super().__init__()
      self.branch1x1 = TorchConv(cin, 192, 1)
      self.branch7x7_1 = TorchConv(cin, c7, 1)
      self.branch7x7_2 = TorchConv(c7, c7, (1, 7), padding=(0, 3))
      self.branch7x7_3 = TorchConv(c7, 192, (7, 1), padding=(3, 0))
      self.branch7x7dbl_1 = TorchConv(cin, c7, 1)
      self.branch7x7dbl_2 = TorchConv(c7, c7, (7, 1), padding=(3, 0))
      self.branch7x7dbl_3 = TorchConv(c7, c7, (1, 7), padding=(0, 3))
      self.branch7x7dbl_4 = TorchConv(c7, c7, (7, 1), padding=(3, 0))
      self.branch7x7dbl_5 = TorchConv(c7, 192, (1, 7), padding=(0, 3))
      self.branch_pool = TorchConv(cin, 192, 1)

    def forward(self, x):
      b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
      d = x
      for i in range(1, 6):
        d = getattr(self, f'branch7x7dbl_{i}')(d)
      return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(torch_avg_pool(x))], 1)

  class TorchD(tnn.Module):
    def __init__(self, cin):
      super().__init__()
      self.branch3x3_1 = TorchConv(cin, 192, 1)
      self.branch3x3_2 = TorchConv(192, 320, 3, stride=2)
      self.branch7x7x3_1 = TorchConv(cin, 192, 1)
      self.branch7x7x3_2 = TorchConv(192, 192, (1, 7), padding=(0, 3))
      self.branch7x7x3_3 = TorchConv(192, 192, (7, 1), padding=(3, 0))
      self.branch7x7x3_4 = TorchConv(192, 192, 3, stride=2)

    def forward(self, x):
      b7 = x
      for i in range(1, 5):
        b7 = getattr(self, f'branch7x7x3_{i}')(b7)
      return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b7,
                        F.max_pool2d(x, 3, stride=2)], 1)

  class TorchE(tnn.Module):
    def __init__(self, cin, max_pool):
      super().__init__()
      self.max_pool = max_pool  # FIDInceptionE_2
      self.branch1x1 = TorchConv(cin, 320, 1)
      self.branch3x3_1 = TorchConv(cin, 384, 1)
      self.branch3x3_2a = TorchConv(384, 384, (1, 3), padding=(0, 1))
      self.branch3x3_2b = TorchConv(384, 384, (3, 1), padding=(1, 0))
      self.branch3x3dbl_1 = TorchConv(cin, 448, 1)
      self.branch3x3dbl_2 = TorchConv(448, 384, 3, padding=1)
      self.branch3x3dbl_3a = TorchConv(384, 384, (1, 3), padding=(0, 1))
      self.branch3x3dbl_3b = TorchConv(384, 384, (3, 1), padding=(1, 0))
      self.branch_pool = TorchConv(cin, 192, 1)

    def forward(self, x):
      b3 = self.branch3x3_1(x)
      d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
      pool = (F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool
              else torch_avg_pool(x))
      return torch.cat([self.branch1x1(x), self.branch3x3_2a(b3), self.branch3x3_2b(b3),
                        self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d),
                        self.branch_pool(pool)], 1)

  class TorchFIDInception(tnn.Module):
    """pytorch-fid's InceptionV3 (block 3 + fc): input in [0, 1], resized to `size`, x2-1."""

    def __init__(self):
      super().__init__()
      self.Conv2d_1a_3x3 = TorchConv(3, 32, 3, stride=2)
      self.Conv2d_2a_3x3 = TorchConv(32, 32, 3)
      self.Conv2d_2b_3x3 = TorchConv(32, 64, 3, padding=1)
      self.Conv2d_3b_1x1 = TorchConv(64, 80, 1)
      self.Conv2d_4a_3x3 = TorchConv(80, 192, 3)
      self.Mixed_5b, self.Mixed_5c, self.Mixed_5d = TorchA(192, 32), TorchA(256, 64), TorchA(
          288, 64)
      self.Mixed_6a = TorchB(288)
      self.Mixed_6b, self.Mixed_6c = TorchC(768, 128), TorchC(768, 160)
      self.Mixed_6d, self.Mixed_6e = TorchC(768, 160), TorchC(768, 192)
      self.Mixed_7a = TorchD(768)
      self.Mixed_7b, self.Mixed_7c = TorchE(1280, False), TorchE(2048, True)
      self.fc = tnn.Linear(2048, 1008)

    def forward(self, x01, size):
      x = F.interpolate(x01, size=(size, size), mode='bilinear', align_corners=False)
      x = 2 * x - 1
      x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
      x = F.max_pool2d(x, 3, stride=2)
      x = F.max_pool2d(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)), 3, stride=2)
      for name in ('5b', '5c', '5d', '6a', '6b', '6c', '6d', '6e', '7a', '7b', '7c'):
        x = getattr(self, f'Mixed_{name}')(x)
      pool3 = F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)
      return pool3, pool3 @ self.fc.weight.T, self.fc(pool3)


@pytest.fixture(scope='module')
def torch_net(state_dict):
  if torch is None:
    pytest.skip('torch is not installed')
  net = TorchFIDInception().eval()
  # strict=True: our key set is exactly that of an independently written pytorch-fid network.
  net.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict.items()}, strict=True)
  return net


@needs_torch
@pytest.mark.parametrize('size', [SMALL, inception.INPUT_SIZE])
def test_matches_torch_network_on_same_weights(torch_net, npz_path, size):
  """pool3, IS probabilities and logits of Flax vs the torch network on pytorch-fid's pipeline."""
  rng = np.random.default_rng(2)
  # Our convention: NHWC in [-1, 1]. Each input size costs a compilation, so: 32x32 RGB
  # (upsampled) and 200x200 RGB (downsampled) at 139, 28x28 grey (repeated to RGB) at 299.
  if size == inception.INPUT_SIZE:
    images = {'grey': rng.uniform(-1, 1, (2, 28, 28, 1)).astype(np.float32)}
  else:
    images = {'rgb': rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32),
              'large': rng.uniform(-1, 1, (2, 200, 200, 3)).astype(np.float32)}
  net = inception.load_inception(npz_path, batch_size=2, input_size=size)
  for kind, x in images.items():
    features, probs = net.features_and_probs(x)
    x01 = torch.from_numpy(np.repeat(x, 3, -1) if x.shape[-1] == 1 else x).permute(0, 3, 1, 2)
    with torch.no_grad():
      t_pool3, t_unbiased, _ = torch_net((x01 + 1) / 2, size)
    t_probs = torch.softmax(t_unbiased, dim=1).numpy()
    assert features.shape == (2, 2048) and probs.shape == (2, 1008)
    scale = np.abs(t_pool3.numpy()).max()
    assert scale > 1e-2, 'activations vanished: the comparison would be vacuous'
    np.testing.assert_allclose(features, t_pool3.numpy(), atol=2e-4 * scale, rtol=1e-3,
                               err_msg=kind)
    np.testing.assert_allclose(probs, t_probs, atol=1e-5, rtol=1e-3, err_msg=kind)


@needs_torch
def test_logits_with_and_without_bias_match_torch(torch_net, state_dict):
  import jax
  variables = inception.from_state_dict(state_dict)
  x = np.random.default_rng(3).uniform(-1, 1, (2, SMALL, SMALL, 3)).astype(np.float32)
  out = jax.jit(inception.InceptionV3().apply)(variables, x)
  with torch.no_grad():
    _, t_unbiased, t_logits = torch_net(torch.from_numpy((x + 1) / 2).permute(0, 3, 1, 2),
                                        SMALL)
  for ours, theirs in ((out['logits_unbiased'], t_unbiased), (out['logits'], t_logits)):
    theirs = theirs.numpy()
    np.testing.assert_allclose(ours, theirs, atol=2e-4 * np.abs(theirs).max(), rtol=1e-3)


@needs_torch
@pytest.mark.parametrize('shape', [(28, 299), (37, 75), (160, 75), (75, 32)])
def test_resize_is_torch_bilinear_align_corners_false(shape):
  """Both up- and downsampling: jax.image.resize(antialias=False) == F.interpolate bilinear."""
  size_in, size_out = shape
  x = np.random.default_rng(4).uniform(-1, 1, (2, size_in, size_in, 3)).astype(np.float32)
  ours = np.asarray(inception.to_inception_input(x, size_out))
  theirs = F.interpolate(torch.from_numpy(x).permute(0, 3, 1, 2), size=(size_out, size_out),
                         mode='bilinear', align_corners=False).permute(0, 2, 3, 1).numpy()
  np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_extractor_from_weights_file(npz_path):
  extractor = extractors.get_extractor('fid_inception', inception_weights=npz_path)
  assert extractor.name == 'fid_inception'
  assert extractor.cache_key.startswith('fid_inception-')
  # Same weights -> same fingerprint, whatever the file format or path.
  assert extractor.cache_key == extractors.get_extractor(
      'fid_inception', inception_weights=npz_path).cache_key
