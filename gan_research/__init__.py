"""gan_research: GAN research in JAX/Flax, from 2-D toys to image models."""
