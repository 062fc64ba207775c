#!/usr/bin/env bash
# Installs what only the tests need (not `make demo`): Debian's chromium, which
# tests/test_pipeline_tryon.py drives headless to check report.html (console errors,
# 3D view pixels, images). Skips the install when a chromium is already there.
set -euo pipefail
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 && exit 0
echo "installing Debian package: chromium (for the report.html browser test)"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
