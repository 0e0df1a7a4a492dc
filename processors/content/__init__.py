"""Content processors: compress, hash, identify, encode, split, merge, rewrite."""
