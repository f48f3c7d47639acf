/* SPDX-License-Identifier: ISC */
/* placeholder */
#include "config.h"
#include "tests/integration/harness.h"
int
main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return (77);
}
