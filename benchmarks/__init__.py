"""Reproducible workloads, each measured beside a hand-written baseline in the same run.

Run ``python -m benchmarks [--quick] [--only NAME] [--json OUT]``; see ``README.md``.
A workload is a module ``benchmarks/<name>.py`` exposing ``run(quick) -> list[dict]``.
"""
