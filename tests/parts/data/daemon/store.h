/* SPDX-License-Identifier: ISC */
#include "proto/jobspec.h"
int store_get(int);
