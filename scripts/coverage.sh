#!/usr/bin/env bash
# Coverage per product package from the data the test command left (.coverage, see scripts/test.sh), each held
# to its floor: a package that drops below its floor fails CI (.ci/run). The floors are the coverage measured
# when they were set (docs/benchmarks.md); raise one when its package gains tests, never lower it.
# Usage: scripts/coverage.sh [DATA_FILE]
set -euo pipefail
data="${1:-.coverage}"
status=0
# package, its folder in the tree, floor (percent of statements)
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
sealkit_cli cli/sealkit_cli 91
sealkit_controller controller/sealkit_controller 91
FLOORS
exit "$status"
