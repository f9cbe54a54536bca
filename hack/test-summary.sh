#!/usr/bin/env bash
# Passes `go test -v` output through and ends it with one closing line,
# "N passed, N failed, N skipped", counting top-level and sub-tests. Exits
# non-zero when go test failed or printed no test at all.
set -uo pipefail
awk '
  { print; fflush() }
  /^[ \t]*--- PASS: / { pass++ }
  /^[ \t]*--- FAIL: / { fail++ }
  /^[ \t]*--- SKIP: / { skip++ }
  /^(FAIL|panic:)/     { bad = 1 }
  END {
    printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
    exit (bad || fail > 0 || pass == 0) ? 1 : 0
  }'
status=$?
# go test exit status arrives through pipefail in the Makefile.
exit $status
