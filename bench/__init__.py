"""The benchmark: the provider under load on its production server, and in-process CPU per step.

Run from the repository root: ``python -m bench.run`` (``make bench``), ``python -m bench.cpu_profile``,
``python -m bench.cleanup``. See ``bench/README.md``. Not part of the reusable app's distribution.
"""
