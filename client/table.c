/* SPDX-License-Identifier: ISC */
/*
 * Column-aligned text tables for schedctl (ps, tree). Widths are display
 * columns, not bytes, in the user's locale; cells are sanitised when added
 * so nothing a job chose (its argv, its name) reaches the terminal as a
 * control sequence. Layout only: this file never talks to the daemon.
 */
#include "config.h"

#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "client/schedctl.h"
#include "client/table.h"

#define TABLE_GAP 2 /* spaces between columns */

struct cell {
	char *text; /* sanitised */
	int width;  /* display columns */
};

struct table {
	size_t ncols;
	int *flags;
	struct cell *headers;
	struct cell **rows;
	size_t nrows;
	size_t cap;
};

char *
table_sanitize(const char *s, int *width)
{
	mbstate_t st;
	size_t n = strlen(s), i = 0, o = 0, k;
	wchar_t wc;
	char *out;
	int w, total = 0;

	/* A replacement '?' never takes more bytes than what it replaces. */
	out = xmalloc(n + 1);
	memset(&st, 0, sizeof(st));
	while (i < n) {
		k = mbrtowc(&wc, s + i, n - i, &st);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&st, 0, sizeof(st));
			out[o++] = '?';
			i++;
			total++;
			continue;
		}
		w = wcwidth(wc);
		if (w < 0) {
			out[o++] = '?';
			total++;
		} else {
			memcpy(out + o, s + i, k);
			o += k;
			total += w;
		}
		i += k;
	}
	out[o] = '\0';
	if (width != NULL)
		*width = total;
	return (out);
}

/* Bytes of the sanitised s that fit in maxw columns; *w gets their width. */
static size_t
fit_width(const char *s, int maxw, int *w)
{
	mbstate_t st;
	size_t n = strlen(s), i = 0, k;
	wchar_t wc;
	int cw, total = 0;

	memset(&st, 0, sizeof(st));
	while (i < n) {
		k = mbrtowc(&wc, s + i, n - i, &st);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			k = 1;
			cw = 1;
		} else if ((cw = wcwidth(wc)) < 0)
			cw = 1;
		if (total + cw > maxw)
			break;
		total += cw;
		i += k;
	}
	*w = total;
	return (i);
}

static void
cell_set(struct cell *c, const char *s)
{
	c->text = table_sanitize(s != NULL ? s : "-", &c->width);
}

struct table *
table_new(size_t ncols, const char *const *headers, const int *flags)
{
	struct table *t;
	size_t i;

	t = xcalloc(1, sizeof(*t));
	t->ncols = ncols;
	t->flags = xcalloc(ncols, sizeof(*t->flags));
	t->headers = xcalloc(ncols, sizeof(*t->headers));
	for (i = 0; i < ncols; i++) {
		cell_set(&t->headers[i], headers[i]);
		if (flags != NULL)
			t->flags[i] = flags[i];
	}
	return (t);
}

void
table_add(struct table *t, const char *const *cells)
{
	struct cell *row;
	size_t i;

	if (t->nrows == t->cap) {
		t->cap = t->cap == 0 ? 16 : t->cap * 2;
		t->rows = xreallocarray(t->rows, t->cap, sizeof(*t->rows));
	}
	row = xcalloc(t->ncols, sizeof(*row));
	for (i = 0; i < t->ncols; i++)
		cell_set(&row[i], cells[i]);
	t->rows[t->nrows++] = row;
}

static void
print_pad(FILE *fp, int n)
{
	while (n-- > 0)
		fputc(' ', fp);
}

static void
print_cell(FILE *fp, const struct cell *c, int colw, int flags, int last)
{
	const char *ell;
	size_t bytes;
	int w;

	/* Cut text ends in an ellipsis, so a cut is never taken for the
	 * whole value ("." where the locale cannot show one). */
	if (c->width > colw && colw >= 1) {
		ell = strcmp(nl_langinfo(CODESET), "UTF-8") == 0
			  ? "\xe2\x80\xa6"
			  : ".";
		bytes = fit_width(c->text, colw - 1, &w);
		if (flags & TABLE_RIGHT)
			print_pad(fp, colw - 1 - w);
		fwrite(c->text, 1, bytes, fp);
		fputs(ell, fp);
		w++;
		if (!(flags & TABLE_RIGHT) && !last)
			print_pad(fp, colw - w);
		return;
	}
	bytes = fit_width(c->text, colw, &w);
	if (flags & TABLE_RIGHT)
		print_pad(fp, colw - w);
	fwrite(c->text, 1, bytes, fp);
	if (!(flags & TABLE_RIGHT) && !last)
		print_pad(fp, colw - w);
}

static void
print_row(
    const struct table *t, FILE *fp, const struct cell *row, const int *colw)
{
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			print_pad(fp, TABLE_GAP);
		print_cell(
		    fp, &row[i], colw[i], t->flags[i], i + 1 == t->ncols);
	}
	fputc('\n', fp);
}

int
table_print(const struct table *t, FILE *fp, int width)
{
	int *colw, total, excess, give, floor;
	size_t i, r;

	colw = xcalloc(t->ncols, sizeof(*colw));
	total = 0;
	for (i = 0; i < t->ncols; i++) {
		colw[i] = t->headers[i].width;
		for (r = 0; r < t->nrows; r++)
			if (t->rows[r][i].width > colw[i])
				colw[i] = t->rows[r][i].width;
		total += colw[i] + (i > 0 ? TABLE_GAP : 0);
	}
	/* Too wide: the flexible columns give way, rightmost first. */
	excess = width > 0 ? total - width : 0;
	for (i = t->ncols; i-- > 0 && excess > 0;) {
		if (!(t->flags[i] & TABLE_FLEX))
			continue;
		floor = t->headers[i].width;
		if (colw[i] <= floor)
			continue;
		give = colw[i] - floor < excess ? colw[i] - floor : excess;
		colw[i] -= give;
		excess -= give;
	}
	print_row(t, fp, t->headers, colw);
	for (r = 0; r < t->nrows; r++)
		print_row(t, fp, t->rows[r], colw);
	free(colw);
	return (ferror(fp) ? -1 : 0);
}

static void
cells_free(struct cell *cells, size_t n)
{
	size_t i;

	if (cells == NULL)
		return;
	for (i = 0; i < n; i++)
		free(cells[i].text);
	free(cells);
}

void
table_free(struct table *t)
{
	size_t r;

	if (t == NULL)
		return;
	for (r = 0; r < t->nrows; r++)
		cells_free(t->rows[r], t->ncols);
	free(t->rows);
	cells_free(t->headers, t->ncols);
	free(t->flags);
	free(t);
}
