/* SPDX-License-Identifier: ISC */
/*
 * The job of the cold-start benchmark (issue 18): when it runs, it writes
 * one byte to the FIFO named by its argument and then waits for a signal,
 * so that the driver, holding the FIFO open, sees the moment each of the
 * 100 jobs is up, whichever supervisor (schedd, s6, supervisord) started
 * it.
 */
#include <fcntl.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	int fd;

	if (argc != 2)
		return (2);
	if ((fd = open(argv[1], O_WRONLY | O_CLOEXEC)) == -1)
		return (1);
	if (write(fd, "u", 1) != 1)
		return (1);
	close(fd);
	for (;;)
		pause();
}
