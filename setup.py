"""Packaging for xltt-plugin (install files: requirements/; see README)."""

from setuptools import find_packages, setup

setup(
    name="xltt-plugin",
    version="0.1.0",
    description=(
        "AllenNLP plugin for zero-shot cross-lingual extractive QA "
        "(XLTT: Cross-Lingual Transposition ReThinking)"
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["xltt_plugin", "xltt_plugin.*"]),
    python_requires=">=3.11,<3.12",
    # The stack is pinned in requirements/lock.txt and installed with --no-deps
    # (allennlp's own metadata pins torch<1.13); these are the direct needs.
    install_requires=[
        "allennlp==2.10.1",
        "allennlp-models==2.10.1",
        "torch>=2.1",
        "transformers==4.43.4",
        "scikit-learn>=1.3",
        "pysbd>=0.3.4",
    ],
    include_package_data=False,
    package_data={"xltt_plugin": ["py.typed"]},
    license="Apache-2.0",
)
