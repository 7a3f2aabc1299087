"""Echocardiography: clips and loaders, the evaluation harness, and TAN (affine window from three landmarks)."""
