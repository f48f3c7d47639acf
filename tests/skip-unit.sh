#!/bin/sh
# SPDX-License-Identifier: ISC
# In make check's list only when configure found no cmocka: says which
# tests were left out and why, and SKIPs (77).
echo "SKIP: the unit tests (tests/unit) and the cgroup v1 test were not" \
    "built: configure found no ${TESTS_MISSING:-cmocka}." \
    "Install it and configure again (sh quickstart.sh test does)."
exit 77
