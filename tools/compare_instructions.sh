#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Instruction counts (valgrind --tool=callgrind) of fixed training and inference work, for a base
# revision and the working tree: repeatable where timings on shared machines are not.
# Usage: tools/compare_instructions.sh BASE_REV [sections...]
#   sections: mlp_train mlp_predict1 cnn_train resnet18_predict (default: all)
# Built with -march=x86-64-v3 (AVX2 + FMA): valgrind 3.19 does not decode AVX-512, so this measures the
# AVX2 code paths.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: tools/compare_instructions.sh BASE_REV [sections...]}; shift
sections=("$@"); ((${#sections[@]})) || sections=(mlp_train mlp_predict1 cnn_train resnet18_predict)
work=$(mktemp -d); trap 'git worktree remove --force "$work/tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/tree" "$base" >/dev/null
flags=(-std=c++20 -O2 -DNDEBUG -march=x86-64-v3 -DXTENSOR_USE_XSIMD -w)
for v in base head; do
  inc=$([[ $v == base ]] && echo "$work/tree/include" || echo include)
  g++ "${flags[@]}" -I"$inc" benchmarks/instructions/count_instructions.cpp -o "$work/$v" -lpthread -lz
done
printf '| section | %s | working tree | ratio |\n|---|---|---|---|\n' "$base"
for s in "${sections[@]}"; do
  for v in base head; do
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/$v.$s.out" "$work/$v" "$s" >/dev/null 2>"$work/$v.$s.log"
    declare "ir_$v=$(grep -o 'Collected : [0-9]*' "$work/$v.$s.log" | grep -o '[0-9]*$')"
  done
  awk -v s="$s" -v a="$ir_base" -v b="$ir_head" 'BEGIN { printf "| %s | %d | %d | %.4f |\n", s, a, b, b / a }'
done
