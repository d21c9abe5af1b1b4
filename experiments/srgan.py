"""SRGAN and SRResNet (Ledig et al. 2017): x4 super-resolution, pixel MSE + 1e-3 x adversarial.

Commands: python -m gan_research.main --config=experiments/srgan.py:adv_weight=0 \
              --workdir=runs/srresnet --config.data_dir=../shared/data/mnist
          python -m gan_research.main --config=experiments/srgan.py \
              --workdir=runs/srgan --config.data_dir=../shared/data/mnist
          python -m gan_research.figures super_resolution --workdir=runs/srgan \
              --options=baseline=runs/srresnet
          (photos: add data=folder and --config.data_dir=../shared/data/monet2photo_128/testB)
Arguments: data (mnist: 7x7 -> 28x28 | folder: 32 -> 128 from images under data_dir, the last
          10 held out), adv_weight (1e-3 = SRGAN, 0 = SRResNet), steps, width, blocks,
          classifier (a train_classifier directory: adds fid_mnist of the outputs), runlocal.
Setup:    SRResNet generator (residual blocks, sub-pixel x2 upsampling twice) and SRGAN's
          discriminator (models/srgan.py), both narrower and shallower than the paper's (64
          channels, 16 blocks) to train on a CPU; pixel MSE on [-1, 1] images (no VGG loss: no
          ImageNet weights offline; games/superres.py); Adam (b1 0.9) as the paper, at 2e-4,
          from scratch for both (the paper starts SRGAN from a trained SRResNet).
Metrics:  sr/psnr, sr/ssim and their bicubic baselines on luminance (metrics/superres.py);
          fid/fid_mnist of the outputs of the 10k MNIST test inputs with `classifier`.
Time:     MNIST, 2,000 steps: SRResNet 32 min, SRGAN 54 min on a 2-core CPU shared with other
          jobs (docs/superres.md).
Expected: MNIST, 2,000 steps, 10k test pairs: SRResNet PSNR 17.51 dB / SSIM 0.831, SRGAN
          17.07 dB / 0.835 (bicubic 11.88 / 0.371); fid_mnist (5k outputs) SRGAN 13.8 against
          SRResNet's 59.1: the GAN trades PSNR for outputs that look like digits.
"""
from gan_research import config_lib


def get_config(arg=None):
  arg = config_lib.parse_arg(arg, data='mnist', adv_weight=1e-3, steps=0, width=0, blocks=0,
                             classifier='', runlocal=False)
  if arg.data not in ('mnist', 'folder'):
    raise ValueError(f"srgan: data must be 'mnist' or 'folder'; got {arg.data!r}.")
  mnist = arg.data == 'mnist'
  c = config_lib.base_config()
  c.game = 'superres'
  c.model = 'srgan'
  c.objective = 'nonsaturating'  # -log D(G(x)) for G, as the paper's l_Gen
  c.game_kw = {'adversarial_weight': arg.adv_weight}
  c.dataset = 'superres_mnist' if mnist else 'superres_folder'
  c.image_size = 28 if mnist else 128
  c.data = {'scale': 4} if mnist else {'scale': 4, 'held_out': 10, 'flip': True}
  c.generator = {'scale': 4, 'width': arg.width or (16 if mnist else 32),
                 'num_blocks': arg.blocks or 4, 'norm': 'batch'}
  c.discriminator = {'width': 16 if mnist else 32, 'num_stages': 2 if mnist else 4,
                     'dense_width': 256, 'norm': 'batch'}
  c.batch_size = 16 if mnist else 8
  c.num_train_steps = arg.steps or (2000 if mnist else 200)
  # The paper's Adam(1e-4, b1 0.9) over 10^6 steps; twice the rate for a run of thousands.
  c.optimizer_g = config_lib.adam(2e-4, 0.9, 0.999)
  c.optimizer_d = config_lib.adam(2e-4, 0.9, 0.999)
  c.log_every_steps = 100 if mnist else 20
  c.checkpoint_every_steps = c.sample_every_steps = 500 if mnist else 100
  c.evals.sr = {'every_steps': 500 if mnist else 100, 'num_samples': 0}  # 0: every test pair
  if mnist and arg.classifier and not arg.runlocal:
    c.evals.fid = {'every_steps': 0, 'num_samples': 10_000, 'extractor': 'fid_mnist',
                   'classifier_path': arg.classifier}
  if arg.runlocal:
    c.num_train_steps = 4
    c.generator.width, c.generator.num_blocks = 8, 1
    c.discriminator.width, c.discriminator.dense_width = 8, 16
    c.log_every_steps = c.checkpoint_every_steps = c.sample_every_steps = 2
    c.evals.sr = {'every_steps': 0, 'num_samples': 8}
  return c
