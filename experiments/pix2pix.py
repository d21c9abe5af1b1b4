"""pix2pix (Isola et al. 2017): paired image-to-image translation with a conditional GAN.

Command:  python -m gan_research.main --config=experiments/pix2pix.py --workdir=runs/p2p \
              --config.data_dir=DATASET_ROOT
          DATASET_ROOT is a pix2pix dataset as its authors ship them (facades, maps, edges2shoes,
          ...): train/ (and val/ or test/) folders of images holding A and B side by side.
          Arguments: res (256), direction (AtoB | BtoA), epochs (100 constant + 100 decaying),
          epoch_steps (training pairs / batch; facades: 400), runlocal.
Setup:    the paper's: U-Net generator (skip connections, dropout 0.5), 70x70 PatchGAN on
          concat(input, output), batch norm, GAN loss + 100 * L1, Adam 2e-4 (b1 0.5), batch 1,
          load 286 and random crops of 256 with flips, linear decay over the last half.
Time:     not measured on this CPU; the paper trains facades for 200 epochs (80,000 steps).
Expected: outputs that follow the input's layout (facade labels -> facades) in samples/.
"""
from gan_research import config_lib


def get_config(arg=None):
  arg = config_lib.parse_arg(arg, res=256, direction='AtoB', epochs=200, epoch_steps=400,
                             runlocal=False)
  c = config_lib.base_config()
  c.game = 'pix2pix'
  c.model = 'pix2pix'
  c.objective = 'nonsaturating'  # the reference's 'vanilla' GAN loss (BCE with logits)
  c.game_kw = {'l1_weight': 100.0}  # lambda
  c.dataset = 'paired_folder'
  c.image_size = arg.res
  c.data = {'direction': arg.direction, 'load_size': arg.res * 286 // 256, 'flip': True}
  c.generator = {'base_width': 64, 'num_downsamplings': 0, 'dropout_rate': 0.5, 'norm': 'batch',
                     'conv_impl': 'auto', 'conv_backward': 'im2col'}
  c.discriminator = {'base_width': 64, 'num_layers': 3, 'norm': 'batch', 'conv_impl': 'auto',
                     'conv_backward': 'im2col'}
  c.batch_size = 1
  c.num_train_steps = arg.epochs * arg.epoch_steps
  for opt in ('optimizer_g', 'optimizer_d'):
    c[opt] = config_lib.adam(2e-4, 0.5, 0.999, schedule='linear_decay')
    c[opt].decay_start_steps = c.num_train_steps // 2
    c[opt].decay_steps = c.num_train_steps
  c.log_every_steps = 50
  c.sample_every_steps = c.checkpoint_every_steps = 1000
  if arg.runlocal:
    c.num_train_steps = 4
    c.generator.base_width = c.discriminator.base_width = 4
    c.log_every_steps = c.checkpoint_every_steps = c.sample_every_steps = 2
    for opt in ('optimizer_g', 'optimizer_d'):
      c[opt].decay_start_steps, c[opt].decay_steps = 2, 4
  return c
