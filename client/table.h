/* SPDX-License-Identifier: ISC */
/*
 * Text tables for schedctl's human output: columns sized to their widest
 * cell, one column that gives way when the terminal is too narrow.
 */
#ifndef SCHEDD_TABLE_H
#define SCHEDD_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_RIGHT 0x1 /* right-align the column (numbers) */
#define TABLE_FLEX  0x2 /* truncate this column to fit the width */

struct table;

/*
 * A table of ncols columns with these headers and TABLE_* flags (flags may
 * be NULL). The strings are copied. Never returns NULL (exits on OOM).
 */
struct table *table_new(
    size_t ncols, const char *const *headers, const int *flags);

/*
 * Add a row of ncols cells (NULL cells print as "-"). Cells are copied with
 * control characters and invalid multibyte sequences replaced by '?', so a
 * job's argv can never drive the terminal.
 */
void table_add(struct table *t, const char *const *cells);

/*
 * Print the headers and rows to fp. width > 0: shorten the TABLE_FLEX
 * columns, rightmost first, so every line fits; 0: never truncate. The
 * last column is not padded. Returns 0, or -1 if fp has seen an error.
 */
int table_print(const struct table *t, FILE *fp, int width);

/* Free t and its cells; accepts NULL. */
void table_free(struct table *t);

/*
 * Printable copy of s (see table_add) and its display width in *width
 * (may be NULL). Caller frees.
 */
char *table_sanitize(const char *s, int *width);

#endif
