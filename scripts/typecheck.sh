#!/usr/bin/env bash
# Type-checks the installed packages with mypy. The stage folders at the top of the repository are
# installed as tryon3d.<stage> (setuptools package-dir), a mapping mypy cannot follow, so this
# script lays out the installed tree as links under build/typecheck and checks it from there.
# usage: scripts/typecheck.sh [PACKAGE ...]   (default: every tryon3d package)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
tree=build/typecheck
rm -rf "$tree" && mkdir -p "$tree/tryon3d"
for f in tryon3d/*; do ln -s "$PWD/$f" "$tree/tryon3d/"; done
for stage in bodyfit garments sim render sizing core study data; do
    [ -d "$stage" ] && ln -s "$PWD/$stage" "$tree/tryon3d/$stage"
done
packages=("$@")
[ ${#packages[@]} -eq 0 ] && packages=(tryon3d)
args=()
for p in "${packages[@]}"; do args+=(-p "$p"); done
MYPYPATH="$tree" exec "$PY" -m mypy "${args[@]}"
