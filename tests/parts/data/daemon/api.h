/* SPDX-License-Identifier: ISC */
int api_handle(int);
