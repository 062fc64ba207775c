#!/usr/bin/env bash
# Installs the Debian packages tryon3d needs when they are missing:
# libllvm19 for Mitsuba/Dr.Jit's CPU (LLVM) backend; libLLVM 14-16 crash on the first render.
set -euo pipefail
need=()
ls /usr/lib/*/libLLVM-19*.so* /usr/lib/*/libLLVM.so.19* >/dev/null 2>&1 || need+=(libllvm19)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${need[@]}" >/dev/null
