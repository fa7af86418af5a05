"""Student-facing helpers for the CNN Course notebooks."""
