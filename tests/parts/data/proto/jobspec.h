/* SPDX-License-Identifier: ISC */
int jobspec_parse(const char *);
