"""Data files shipped inside the package (CRDs), found via importlib.resources so they work from wheels too."""

from __future__ import annotations

import importlib.resources
import pathlib


def crd_path(name: str) -> pathlib.Path:
    """Return the filesystem path of a bundled CRD, e.g. ``crd_path("bitnami.com_sealedsecrets.yaml")``.

    Raises FileNotFoundError naming the CRD when it is not bundled.
    """
    resource = importlib.resources.files(__name__).joinpath("crds", name)
    path = pathlib.Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"no bundled CRD named {name!r}")
    return path
