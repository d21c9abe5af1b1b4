"""Figures by name: python -m gan_research.figures NAME --workdir=DIR writes DIR/figures/NAME.png.

Each figure is `run(workdir, **options) -> path`. Later papers add names to FIGURES.
"""
import importlib

FIGURES = {
    'samples': 'gan_research.figures.samples',  # a grid (or plot) from the latest checkpoint
    'scatter2d': 'gan_research.figures.scatter2d',  # 2-D samples over the true modes
    'translation': 'gan_research.figures.translation',  # x, G(x), F(G(x)) for both directions
    'class_grid': 'gan_research.figures.class_grid',  # conditional runs: a row per class
    # StyleGAN (Karras et al. 2019 / 2020) runs:
    'style_mixing': 'gan_research.figures.style_mixing',  # coarse / middle / fine styles
    'interpolation': 'gan_research.figures.interpolation',  # slerp in Z vs lerp in W
    'noise': 'gan_research.figures.noise',  # same w, resampled noise, per-pixel std
    'truncation': 'gan_research.figures.truncation',  # psi sweep towards the average w
    # Toy studies; these train their own runs (vmapped over seeds) into --workdir.
    'toy1d': 'gan_research.figures.toy1d',  # 1-D mixtures x G activations, densities + modes
    'optimal_d': 'gan_research.figures.optimal_d',  # Goodfellow et al. 2014 Fig. 1: D vs D*
    'modes2d': 'gan_research.figures.modes2d',  # PacGAN Table 1: ring8/grid25 mode collapse
}


def get_figure(name: str):
  if name not in FIGURES:
    raise ValueError(f'Unknown figure {name!r}; valid figures: {sorted(FIGURES)}.')
  return importlib.import_module(FIGURES[name])
