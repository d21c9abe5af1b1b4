"""Semi-supervised GAN (Salimans et al. 2016): permutation-invariant MNIST with 100 labels.

Commands (data_dir: a folder holding the four MNIST IDX files):
  python -m gan_research.main --config=experiments/semi_supervised.py --workdir=runs/ssl \
      --config.data_dir=../shared/data/mnist
  python -m gan_research.main --config=experiments/semi_supervised.py:baseline=supervised \
      --workdir=runs/ssl_supervised --config.data_dir=../shared/data/mnist
Arguments: labels (labelled examples per class, 10), baseline ('' | supervised: the same D
  trained on the labelled examples alone, no unlabelled data, no G), runlocal (a 20-step smoke
  run).
Setup, as in the authors' code (openai/improved-gan, train_mnist_feature_matching.py): D a
  weight-normalised MLP 784-1000-500-250-250-250-10 with Gaussian noise (std 0.3 on the input,
  0.5 after each hidden layer), its real/fake logit the log-sum-exp of the 10 class logits; G
  100-500-500-784 (softplus, batch normalisation, sigmoid output) trained by feature matching on
  D's last hidden layer; Adam lr 0.003, b1 0.5 (their epsilon inside the square root), batch 100
  labelled + 100 unlabelled examples. They train 300 epochs of 600 steps (180,000 steps); this
  file trains 12,000 steps (20 epochs) to fit a CPU budget, and scores a moving average of D's
  weights with decay 0.999 (theirs: 0.9999 over their 15 times longer run).
Evaluation: `ssl/test_error`, D's error (%) on the 10,000 MNIST test images, every 1,000 steps.
Published (Salimans et al. 2016, Table 1): 93 +- 6.5 test errors with 100 labels (0.93%).
Time: 0.114 CPU-seconds per step, about 12-23 min for the 12,000 steps on an idle 2-core CPU
  (estimated from CPU time, not measured wall time).
Expected: one seed: 12.9% test error at step 2,000, 3.25% at 7,000, 1.94% at 12,000 (the
  target is at most 1.5%, the paper 0.93% after 180,000 steps); the supervised baseline stays
  at 22-26% (3 seeds) (docs/semi_supervised.md).
"""
from gan_research import config_lib

BASELINES = ('', 'supervised')


def get_config(arg=None):
  arg = config_lib.parse_arg(arg, labels=10, baseline='', runlocal=False)
  if arg.baseline not in BASELINES:
    raise ValueError(f'Unknown baseline {arg.baseline!r}; valid baselines: {list(BASELINES)}.')
  c = config_lib.base_config()
  c.game = 'semi_supervised'
  c.game_kw = dict(unlabelled_weight=0.0 if arg.baseline == 'supervised' else 1.0,
                   init_examples=500, d_average_decay=0.999)
  c.model = 'ssl_mlp'
  # U(-1, 1) latents: G's first layer is batch-normalised, so this is the authors' U(0, 1).
  c.generator = dict(latent_dim=100, latent_distribution='uniform', hidden_sizes=(500, 500))
  c.discriminator = dict(num_classes=10, hidden_sizes=(1000, 500, 250, 250, 250),
                         input_noise_std=0.3, hidden_noise_std=0.5)
  c.objective = 'nonsaturating'  # the unsupervised terms: -log D(x) - log(1 - D(G(z)))
  c.dataset = 'mnist'
  c.image_size = 28
  c.data.labels_per_class = arg.labels
  c.batch_size = 100  # unlabelled examples per step; the labelled batch has as many
  c.num_train_steps = 12_000
  for name in ('optimizer_g', 'optimizer_d'):
    c[name] = config_lib.adam(0.003, 0.5, 0.999)
    c[name].eps, c[name].eps_root = 0.0, 1e-8  # the authors' Adam: sqrt(v + 1e-8)
  c.log_every_steps = 200
  c.checkpoint_every_steps = 2000
  c.sample_every_steps = 2000
  c.evals.ssl = dict(every_steps=1000)
  if arg.runlocal:
    c.num_train_steps, c.batch_size = 20, 20
    c.game_kw.init_examples = 50
    c.evals.ssl.every_steps = 10
  return c
