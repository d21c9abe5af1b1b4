"""gan_research: GAN research in JAX/Flax, from 2-D toys to image models."""
import jax

# With jax 0.10.2 on CPU the default partitionable threefry makes even one small
# jax.random.normal very slow to compile (docs/performance.md), and every init and train step
# samples. The values stay a function of (key, shape) alone, so results do not depend on
# the device count either way; only the compiled program differs.
jax.config.update('jax_threefry_partitionable', False)
