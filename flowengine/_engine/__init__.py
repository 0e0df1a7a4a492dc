"""The engine that runs a plan: nodes, connections, ports, the standard session, the
runtime and its scheduling. Imports ``_repository``, ``_api`` and leaves."""
