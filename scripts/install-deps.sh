#!/usr/bin/env bash
# Installs, with apt, whatever Gauntlet needs to build and test that this
# machine lacks. Safe to run again: it does nothing when all is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libsqlite3-dev sqlite3 libssl-dev
  libcpp-httplib-dev libspdlog-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
  libhowardhinnant-date-dev tzdata libboost-dev
  libopenmpi-dev openmpi-bin libsentencepiece-dev libpcre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev prometheus-cpp-dev libpugixml-dev
  python3-numpy python3-pytest
  clang-16 libclang-rt-16-dev
  hipcc libamdhip64-dev
  chromium
  curl
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
