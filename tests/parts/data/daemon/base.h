/* SPDX-License-Identifier: ISC */
#ifndef BASE_H
#define BASE_H
#define BASE_MAX(a, b) ((a) > (b) ? (a) : (b))
int base_twice(int);
#endif
