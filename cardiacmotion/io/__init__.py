"""Readers and writers. ``read_image`` picks the reader from the path; all return a :class:`Cine`."""
from cardiacmotion.io.dispatch import read_image, read_labels, write_image
from cardiacmotion.io.atomic import atomic_output, check_not_input
from cardiacmotion.io.seeds import SeedSet, load_seed, match_landmarks, seed_from_cine

__all__ = [
    "read_image", "read_labels", "write_image", "atomic_output", "check_not_input",
    "SeedSet", "load_seed", "match_landmarks", "seed_from_cine",
]
