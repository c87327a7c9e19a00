#!/usr/bin/env bash
# The contract stage (issue 8): every command of the CLI against Stoplight Prism, which validates each
# request against tests/contract/openapi.yaml. Prism (pinned in package.json / package-lock.json) is
# installed into a throwaway folder, never into the project. Exits non-zero when Prism flags a request
# the CLI sent, when the CLI fails where it should succeed, or when Prism cannot be installed.
#
# Usage: tests/contract/run.sh [PYTEST ARGS...]    (PYTHON=... picks the interpreter; default: python)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python}"
started=$SECONDS

for tool in node npm "$python"; do
    command -v "$tool" >/dev/null || { echo "contract: $tool not found (Node 20 + npm and the project's Python are needed)" >&2; exit 2; }
done
"$python" -c "import memberships_cli, pytest, httpx, yaml" 2>/dev/null \
    || { echo "contract: $python cannot import memberships_cli and its test dependencies; activate the venv or set PYTHON" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/memberships-contract.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cp "$here/package.json" "$here/package-lock.json" "$work/"
echo "contract: installing Prism into $work (npm ci)" >&2
# No install scripts: Prism needs none, and a test tool should not run code at install time.
(cd "$work" && npm ci --ignore-scripts --no-fund --no-audit --loglevel=error >&2)
prism="$work/node_modules/.bin/prism"
pinned="$(node -p "require('$here/package.json').devDependencies['@stoplight/prism-cli']")"
installed="$("$prism" --version)"
[ "$installed" = "$pinned" ] || { echo "contract: installed Prism $installed, pinned $pinned" >&2; exit 2; }

status=0
(
    cd "$root"
    # --confcutdir: the stage needs only its own conftest, not the rest of the suite's fixtures.
    # -p no:xdist: one session, so the servers and the tally are shared by every case.
    PRISM_BIN="$prism" PRISM_REPORT="$work/report.json" MEMBERSHIPS_REQUIRE_PRISM=1 \
        "$python" -m pytest tests/contract --confcutdir=tests/contract -p no:xdist -p no:cacheprovider -q "$@"
) || status=$?

if [ -f "$work/report.json" ]; then
    summary="$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["summary"])' "$work/report.json")"
else
    summary="contract: no Prism report (the tests did not reach Prism)"
fi
verdict=$([ "$status" -eq 0 ] && echo passed || echo "FAILED (exit $status)")
echo "$summary; Prism $installed; $verdict in $((SECONDS - started)) s"
exit "$status"
