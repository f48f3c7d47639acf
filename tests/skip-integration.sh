#!/bin/sh
# SPDX-License-Identifier: ISC
# In make check's list only when configure found no cmocka or no libcurl:
# says which tests were left out and why, and SKIPs (77).
echo "SKIP: the integration tests (tests/integration, tests/notify) were" \
    "not built: configure found no ${TESTS_MISSING:-cmocka or libcurl}." \
    "Install it and configure again (sh quickstart.sh test does)."
exit 77
