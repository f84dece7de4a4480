"""Benchmarks: speed (`benchmarks/run.py`) and quality (`python -m benchmarks.quality`)."""
