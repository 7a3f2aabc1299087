"""Synthetic cine MR and echo with exact ground truth."""
