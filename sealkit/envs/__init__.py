"""Environment sealing: one spec (`sealkit-csi.yaml`) names the clusters, and each SealedSecret is sealed
for, and kept under, the environment it belongs to.

Where it sits: the core, beside `csi/` (whose spec declares the environments). The pieces, one job each:

- `layout`: which environments a run means, where each one's SealedSecrets live (inside the repo), file names.
- `certs`: an environment's certificates: the current one (file, URL or cluster, through a fetcher the
  caller supplies) and the older ones the repo keeps, read without validity checks for comparing.
- `sealplan`: `seal --env` and `set` as file changes planned in memory, written all or nothing
  (`sealkit.filewrites`). Provenance annotations: `sealkit.provenance`.
- `pull`: `certs pull`, the committed certificate against the served one, and the history it keeps.

`environment_names` lists a spec's environments cheaply and never fails (for shell completion).
"""

from __future__ import annotations

from pathlib import Path

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def environment_names(spec_path: str | Path) -> list[str]:
    """The environment names a spec declares, sorted; [] when the file is missing or unreadable."""
    try:
        data = yaml.load(Path(spec_path).read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    envs = data.get("environments") if isinstance(data, dict) else None
    return sorted(str(name) for name in envs) if isinstance(envs, dict) else []
