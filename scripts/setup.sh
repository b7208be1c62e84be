#!/usr/bin/env bash
# One set-up path for a fresh Debian 12 machine: apt packages, .venv, pip, PlatformIO offline pieces.
set -euo pipefail
cd "$(dirname "$0")/.."

# Everything the test suite runs: host gcc/g++ (+ 32-bit multilib for the -m32 compile
# matrix), the Arm, Xtensa LX106 and RISC-V cross toolchains with their C libraries, QEMU
# (qemu-system-misc: qemu-system-xtensa and qemu-system-riscv32 for qemu_xtensa / qemu_rv32),
# espeak-ng (the synthetic speech of the offline keyword-spotting dataset tts_kws).
# tests/conftest.py fails any test whose tool is missing.
APT_PACKAGES=(gcc g++ gcc-multilib make
              gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib
              gcc-xtensa-lx106 binutils-xtensa-lx106 picolibc-xtensa-lx106-elf
              gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf picolibc-riscv64-unknown-elf
              qemu-system-arm qemu-system-misc chromium    # chromium: tests open report.html headless
              espeak-ng)                                   # espeak-ng: speaks the tts_kws dataset
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "[setup] apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "[setup] creating .venv"
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
echo "[setup] pip install -e .[ml,onnx,firmware,dev]"
.venv/bin/python -m pip install -q -e ".[ml,onnx,firmware,dev]"
# onnx2tf pins tensorflow 2.19; it runs on the 2.21 above, so it goes in without its pins.
ONNX_CONVERTER="onnx2tf==1.29.24"
echo "[setup] pip install --no-deps $ONNX_CONVERTER"
.venv/bin/python -m pip install -q --no-deps "$ONNX_CONVERTER"

if [ -f scripts/pio_offline.py ]; then
    echo "[setup] PlatformIO offline core packages"
    .venv/bin/python scripts/pio_offline.py
fi
echo "[setup] done"
