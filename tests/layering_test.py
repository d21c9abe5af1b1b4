"""The package's layers: no import runs up them, and no two modules import each other in a cycle.

Read from the source with `ast` (nothing is imported), so the test states the layering once: a
module imports only modules of its own layer or below. The trainer must never need the figures,
and the seams (models, data, games, metrics) must never need the trainer.
"""
import ast
import os

from conftest import REPO

PACKAGE = os.path.join(REPO, 'gan_research')

# Top-level modules and sub-packages of gan_research, lowest layer first.
LAYERS = (
    # Building blocks with no knowledge of GANs as a whole.
    ('ops', 'compiler', 'parallel', 'preemption', 'writers', 'checkpoints', 'train_state',
     'optimizers', 'objectives', 'packing'),
    # The seams' own parts: architectures, data sources, the config.
    ('models', 'data', 'config_lib'),
    # What the trainer composes: games, evaluators, the step, sample plots.
    ('games', 'metrics', 'steps', 'plots', 'projection'),
    ('train',),
    # Programs and tools built on the trainer.
    ('sweeps', 'trained_stylegan', 'evaluate', 'main', 'benchmark', 'fid', 'project'),
    ('figures',),
    # The interactive page: trains through the sweeps, draws what the toy figures compute.
    ('playground',),
)
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _modules():
  """{dotted module name: path} of every module of the package."""
  out = {}
  for root, _, files in os.walk(PACKAGE):
    for f in files:
      if f.endswith('.py'):
        rel = os.path.relpath(os.path.join(root, f), REPO)[:-3].replace(os.sep, '.')
        out[rel.removesuffix('.__init__')] = os.path.join(root, f)
  return out


def _imports(path, modules):
  """The package modules `path` imports at any depth of its code (function-level too)."""
  found = set()
  with open(path) as f:
    tree = ast.parse(f.read())
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
      # `from gan_research import train` imports gan_research.train.
      names = [node.module] + [f'{node.module}.{alias.name}' for alias in node.names]
    else:
      continue
    found.update(name for name in names if name in modules)
  return found


def _top(module):
  """gan_research.metrics.fid -> 'metrics'; the package itself -> None."""
  parts = module.split('.')
  return parts[1] if len(parts) > 1 else None


def test_every_module_has_a_layer():
  tops = {_top(m) for m in _modules()} - {None, '__main__'}
  assert not tops - set(LAYER), f'modules without a layer in LAYERS: {sorted(tops - set(LAYER))}'


def test_no_import_runs_up_the_layers():
  modules = _modules()
  upward = []
  for module, path in modules.items():
    if _top(module) in (None, '__main__'):
      continue
    for imported in _imports(path, modules):
      if _top(imported) and LAYER[_top(imported)] > LAYER[_top(module)]:
        upward.append(f'{module} imports {imported}')
  assert not upward, 'imports that run up the layers:\n' + '\n'.join(sorted(upward))


def test_no_import_cycles():
  modules = _modules()
  graph = {m: _imports(p, modules) - {m} for m, p in modules.items()}
  # A package's __init__ re-exporting its own modules is not a cycle of the code's design.
  graph = {m: {i for i in deps if not m.startswith(i + '.') and not i.startswith(m + '.')}
           for m, deps in graph.items()}
  state, cycles = {}, []

  def visit(node, stack):
    state[node] = 'open'
    for nxt in sorted(graph[node]):
      if state.get(nxt) == 'open':
        cycles.append(' -> '.join(stack[stack.index(nxt):] + [nxt]))
      elif nxt not in state:
        visit(nxt, stack + [nxt])
    state[node] = 'done'

  for module in sorted(graph):
    if module not in state:
      visit(module, [module])
  assert not cycles, 'import cycles:\n' + '\n'.join(cycles)
