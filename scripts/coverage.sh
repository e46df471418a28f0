#!/usr/bin/env bash
# Coverage per product package from the data the test command left (.coverage, see scripts/test.sh), each held
# to its floor: a package that drops below its floor fails CI (.ci/run). Raise a floor when its package gains
# tests, never lower it.
# Usage: scripts/coverage.sh [DATA_FILE]
set -euo pipefail
data="${1:-.coverage}"
status=0
# package, its folder in the tree, floor (percent of statements). Measured 2026-12-06 (the whole suite, with the
# CLI and the controller also measured where tests start them as their own processes, and the worker processes
# `seal --env` forks, `patch = ["subprocess", "_exit"]` in pyproject.toml): sealkit 92.0%, sealkit_cli 96.0%,
# sealkit_controller 95.4%; each floor is at most 1.1 below, room for paths that only timing takes (retries,
# races), and none below the 91% of the whole.
while read -r package folder floor; do
    # No data for a package (never imported) reports as nothing: 0%.
    total="$(coverage report --data-file="$data" --include="$folder/*" --format=total 2>/dev/null || true)"
    [[ "$total" =~ ^[0-9.]+$ ]] || total=0
    if coverage report --data-file="$data" --include="$folder/*" --fail-under="$floor" >/dev/null 2>&1; then
        echo "coverage $package: $total% (floor $floor%)"
    else
        echo "error: coverage of $package is $total%, below its floor of $floor%: $folder" >&2
        status=1
    fi
done <<'FLOORS'
sealkit sealkit 91
sealkit_cli cli/sealkit_cli 95
sealkit_controller controller/sealkit_controller 94
FLOORS
exit "$status"
