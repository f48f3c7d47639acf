/* SPDX-License-Identifier: ISC */
/*
 * A no-libc job that records when it ran, for the latency benchmark. It
 * writes "S <ns>\n" (CLOCK_MONOTONIC when its first instruction ran), sleeps
 * STAMP_SLEEP_NS so the client's /wait and /events are surely waiting, then
 * writes "E <ns>\n" and exits at once with status 0. The client compares E
 * with the moment it saw the exit, on the same clock.
 */
#define STAMP_SLEEP_NS 3000000L

struct stamp_ts {
	long sec;
	long nsec;
};

#if defined(__x86_64__)
#define SYS_WRITE         1
#define SYS_NANOSLEEP     35
#define SYS_EXIT          60
#define SYS_CLOCK_GETTIME 228

static long
sys3(long n, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return (r);
}

__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	xorl %ebp, %ebp\n"
	"	andq $-16, %rsp\n"
	"	call stamp_main\n"
	"	hlt\n");
#elif defined(__aarch64__)
#define SYS_WRITE         64
#define SYS_NANOSLEEP     101
#define SYS_EXIT          93
#define SYS_CLOCK_GETTIME 113

static long
sys3(long n, long a, long b, long c)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;

	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2)
			 : "memory");
	return (x0);
}

__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	mov x29, #0\n"
	"	bl stamp_main\n"
	"	b .\n");
#else
#error "stamp-static: add _start and syscalls for this architecture"
#endif

void stamp_main(void) __attribute__((noreturn, used));

static void
stamp(char tag)
{
	struct stamp_ts ts;
	char buf[32], *p = buf + sizeof(buf);
	unsigned long v;

	sys3(SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, (long)&ts, 0);
	v = (unsigned long)ts.sec * 1000000000UL + (unsigned long)ts.nsec;
	*--p = '\n';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	*--p = ' ';
	*--p = tag;
	sys3(SYS_WRITE, 1, (long)p, (long)(buf + sizeof(buf) - p));
}

void
stamp_main(void)
{
	struct stamp_ts nap = {0, STAMP_SLEEP_NS};

	stamp('S');
	sys3(SYS_NANOSLEEP, (long)&nap, 0, 0);
	stamp('E');
	sys3(SYS_EXIT, 0, 0, 0);
	for (;;)
		;
}
