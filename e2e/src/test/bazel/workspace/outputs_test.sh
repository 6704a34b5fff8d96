#!/bin/sh
# Checks the outputs of other actions, which arrive from the remote cache after a clean.
set -e
grep -q "HELLO FROM REX" upper.txt
test "$(tr -d ' ' < count.txt)" = "15"
test "$(wc -l < big.bin | tr -d ' ')" = "900000"
