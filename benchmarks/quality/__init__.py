"""
The real-data quality benchmark: protocols as data (`protocols/*.jsonnet`), run, collect,
report and check them: `python -m benchmarks.quality --help`, docs/quality-protocols.md.
"""
