"""Flows: the definition, YAML loading, the component registry, validation into a plan,
the schema and docs generators, and ``Flow``, which runs one. Imports ``_engine`` and
below."""
