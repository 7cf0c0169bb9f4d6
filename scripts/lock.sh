#!/usr/bin/env bash
# Rewrites constraints.txt from a fresh venv: what '.[test]' resolves to today, as tested.
# Run it after changing a dependency in pyproject.toml, then run the suite on the result.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q -e '.[test]'
{
  head -n 4 constraints.txt
  "$tmp/venv/bin/pip" freeze --exclude-editable | grep -v '^#'
} >"$tmp/constraints.txt"
mv "$tmp/constraints.txt" constraints.txt
rm -rf "$tmp"
echo "constraints.txt: $(grep -cv '^#' constraints.txt) pins"
