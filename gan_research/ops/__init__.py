"""Numerical building blocks with hand-written gradients (fast on XLA:CPU)."""
