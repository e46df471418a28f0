#!/usr/bin/env bash
# Creates .venv (once) and installs sealkit with its dev extra, and the test servers (testservers/, the
# distribution sealkit-testservers, not part of sealkit's wheel), into it.
# Sourced by scripts/demo.sh and scripts/test.sh so a fresh machine needs nothing else.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-python3}"
stamp="$venv/.sealkit-installed"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
# Reinstall only when either pyproject.toml changed since the last install.
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ] || [ "$root/testservers/pyproject.toml" -nt "$stamp" ]; then
    # This machine's pip config names local mirrors that may be absent: drop those warnings only.
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip \
        2> >(grep -v "is ignored: it is neither" >&2)
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[dev]" -e "$root/testservers" \
        2> >(grep -v "is ignored: it is neither" >&2)
    touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
