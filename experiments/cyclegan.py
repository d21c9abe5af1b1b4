"""CycleGAN (Zhu et al. 2017): unpaired image-to-image translation, X -> Y and back.

Command:  python -m gan_research.main --config=experiments/cyclegan.py --workdir=runs/cg
          (Monet paintings <-> photos, 128x128, from ../shared/data/monet2photo_128/, whose
          testA/testB folders are trained on: that copy has no trainA/trainB)
          python -m gan_research.main --config=experiments/cyclegan.py:dataset=inverted_mnist \
              --workdir=runs/cg_mnist --config.data_dir=../shared/data/mnist
          Arguments: dataset = monet2photo | inverted_mnist | folder (--config.data_dir=ROOT with
          trainA/trainB/testA/testB) | cycle_gan/NAME (TFDS); res (default 128, 32 for MNIST);
          blocks (residual blocks; default 6 below 256 px, else 9); epochs (100 constant + 100
          decaying by default); epoch_steps (images per epoch: max(|A|, |B|) / batch);
          runlocal (a few tiny steps).
Setup:    the paper's: ResNet generator, 70x70 PatchGAN, instance norm, least-squares GAN loss,
          cycle weight 10, identity weight 0.5, history pool of 50, Adam 2e-4 (b1 0.5), batch 1,
          constant learning rate then linear decay to 0 (both counted in steps).
Time:     128x128 (paper sizes, batch 1): 0.027 steps/s measured on the 2-core CPU while other
          jobs held it (load 10-12), compile 7 min; 50,000 steps (the paper's 200 epochs of the
          250-photo folder) are not a CPU job. inverted_mnist with epoch_steps=500 (1,000 steps):
          36 min 47 s on the same loaded machine (0.62 steps/s, compile 132 s).
Expected: inverted_mnist: translation/l1_error (mean |G(x) - (1 - x)|, pixels in [0, 1]) 0.050 at
          step 250, 0.023 at 500 (< 0.05 from there on), 0.017 at 1,000; monet2photo: not trained
          to the end here (docs/cyclegan.md).
"""
from gan_research import config_lib

# Images per epoch of the datasets we know (max of the two domains, as the reference counts).
EPOCH_IMAGES = {'monet2photo': 250, 'cycle_gan/monet2photo': 6287,
                'cycle_gan/horse2zebra': 1334, 'inverted_mnist': 30_000}
MONET2PHOTO_DIR = '../shared/data/monet2photo_128'


def get_config(arg=None):
  arg = config_lib.parse_arg(arg, dataset='monet2photo', res=0, blocks=0, epochs=200,
                             epoch_steps=0, runlocal=False)
  c = config_lib.base_config()
  c.game = 'cyclegan'
  c.model = 'cyclegan'
  c.objective = 'least_squares'
  # The reference's generator adversarial term is MSE(D(G(x)), 1) = E[(l - 1)^2]; the registry's
  # least_squares g_loss is 1/2 E[(l - 1)^2], so weight 2 keeps the paper's balance with lambda.
  c.game_kw = {'adversarial_weight': 2.0,
               'cycle_weight': 10.0,  # lambda
               'identity_weight': 0.5,  # times lambda
               'pool_size': 50}  # generated images per domain kept for the discriminators
  mnist = arg.dataset == 'inverted_mnist'
  res = arg.res or (32 if mnist else 128)
  c.image_size = res
  c.generator = {'base_width': 64, 'num_res_blocks': arg.blocks or (6 if res < 256 else 9),
                     'num_downsamplings': 2, 'norm': 'instance', 'conv_impl': 'auto',
                     'conv_backward': 'im2col'}
  c.discriminator = {'base_width': 64, 'num_layers': 3, 'norm': 'instance', 'conv_impl': 'auto',
                     'conv_backward': 'im2col'}
  c.batch_size = 1
  # XLA's own convolution kernels (README, Speed): the 128x128 step ran 0.156 steps/s against
  # 0.119 with jaxlib's default YNNPACK kernels, alternating windows in one process. Same model.
  c.cpu_conv_backend = 'xla'
  # load_size > image_size: random crops (the paper: 286 -> 256); 0 = no crop jitter.
  c.data = {'load_size': res * 286 // 256 if res >= 256 else 0, 'flip': True}
  if arg.dataset == 'monet2photo':
    c.dataset, c.data_dir = 'unpaired_folder', MONET2PHOTO_DIR
    c.data.train_folders = c.data.test_folders = ('testA', 'testB')
  elif arg.dataset == 'folder':
    c.dataset = 'unpaired_folder'
    c.data.train_folders, c.data.test_folders = ('trainA', 'trainB'), ('testA', 'testB')
  elif mnist or arg.dataset.startswith('cycle_gan/'):
    c.dataset = arg.dataset
  else:
    raise ValueError(f'Unknown dataset argument {arg.dataset!r}; valid: monet2photo, '
                     'inverted_mnist, folder, cycle_gan/NAME.')
  c.log_every_steps = 50
  c.sample_every_steps = 1000
  c.checkpoint_every_steps = 1000
  if mnist:
    # A small version that reaches the known answer in CPU minutes: 32x32 (28 padded), narrow
    # nets, batch 16, a short schedule. The identity loss is off: G(y) = y contradicts the
    # answer G = inversion (G(y) = 1 - y).
    c.data.flip = False
    c.generator.update(base_width=8, num_res_blocks=arg.blocks or 1)
    c.discriminator.update(base_width=8, num_layers=2)
    c.game_kw.identity_weight = 0.0
    c.batch_size = 16
    c.log_every_steps = 25
    c.sample_every_steps = c.checkpoint_every_steps = 500
    c.evals.translation = {'every_steps': 250, 'num_samples': 0}  # 0: all 10k test images
  epoch_images = EPOCH_IMAGES.get(arg.dataset, 1000)
  epoch_steps = arg.epoch_steps or max(epoch_images // c.batch_size, 1)
  epochs = arg.epochs if not mnist or arg.epochs != 200 else 2  # MNIST: 1 + 1 epochs of 1875
  c.num_train_steps = epochs * epoch_steps
  for opt in ('optimizer_g', 'optimizer_d'):
    c[opt] = config_lib.adam(2e-4, 0.5, 0.999, schedule='linear_decay')
    # D makes one update per step (d_steps = 1), so both schedules count train steps.
    c[opt].decay_start_steps = c.num_train_steps // 2
    c[opt].decay_steps = c.num_train_steps
  if arg.runlocal:
    c.num_train_steps = 4
    c.generator.update(base_width=4, num_res_blocks=1)
    c.discriminator.update(base_width=4, num_layers=2)
    c.log_every_steps = c.checkpoint_every_steps = c.sample_every_steps = 2
    for opt in ('optimizer_g', 'optimizer_d'):
      c[opt].decay_start_steps, c[opt].decay_steps = 2, 4
    if mnist:
      c.evals.translation = {'every_steps': 2, 'num_samples': 500}
  return c
