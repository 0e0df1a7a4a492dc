"""Built-in processors, installed as ``flowengine.processors``.

Each module holds one processor or a small family. They use only the public ``flowengine``
API (the same one plugins use) and are found by the engine through the
``flowengine.processors`` entry points declared in ``pyproject.toml``.
"""
