"""Example flowengine plugin: CountWords (class style) and Reverse (transform style)."""
