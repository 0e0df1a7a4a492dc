"""Content processors: split, merge, rewrite, extract, route, compress, hash, identify."""
