#!/bin/sh
set -e
test "$(cat exec/tree/a.txt)" = "alpha"
test "$(cat exec/tree/sub/b.txt)" = "beta"
