#!/usr/bin/env bash
# Installs the Debian packages given that are not installed yet (through sudo unless root).
set -euo pipefail
missing=()
for package in "$@"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
[[ ${#missing[@]} -eq 0 ]] && exit 0
sudo=$([[ $(id -u) -eq 0 ]] || echo sudo)
echo "installing ${missing[*]}"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
