"""Packaging for pydas, the Python client for Midas Server 3."""

import os
import re

from setuptools import find_packages, setup

HERE = os.path.abspath(os.path.dirname(__file__))


def read_version():
    with open(os.path.join(HERE, "pydas", "_version.py"), encoding="utf-8") as handle:
        return re.search(r'__version__ = "([^"]+)"', handle.read()).group(1)


def read_readme():
    with open(os.path.join(HERE, "README.rst"), encoding="utf-8") as handle:
        return handle.read()


setup(
    name="pydas",
    version=read_version(),
    description="Python client library for Midas Server 3, with a local server emulator for tests",
    long_description=read_readme(),
    long_description_content_type="text/x-rst",
    license="Apache-2.0",
    packages=find_packages(include=["pydas", "pydas.*"]),
    package_data={"pydas": ["py.typed"]},
    python_requires=">=3.9",
    install_requires=[
        "requests>=2.25",
        "tqdm>=4.60",
        "platformdirs>=3",
    ],
    extras_require={
        "test": ["pytest>=7", "responses>=0.23"],
        "lint": ["ruff>=0.4"],
        "types": ["mypy>=1.5", "types-requests"],
        "docs": ["sphinx>=6"],
        "dicom": ["pydicom>=2.3"],
    },
    entry_points={
        "console_scripts": ["pydas = pydas.cli:main"],
        "pytest11": ["pydas = pydas.testing.pytest_plugin"],
    },
    classifiers=[
        "Development Status :: 4 - Beta",
        "Intended Audience :: Science/Research",
        "License :: OSI Approved :: Apache Software License",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Topic :: Scientific/Engineering :: Medical Science Apps.",
        "Typing :: Typed",
    ],
)
