"""Bundled CustomResourceDefinitions (a package so setuptools ships the YAML files)."""
