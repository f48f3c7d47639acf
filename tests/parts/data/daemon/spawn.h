/* SPDX-License-Identifier: ISC */
int spawn_run(int);
