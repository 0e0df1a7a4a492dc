"""Content processors: split, merge, rewrite, compress, hash, package and unpack FlowFile content."""
