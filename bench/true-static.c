/* SPDX-License-Identifier: ISC */
/*
 * A `true` with no libc, linked -nostdlib -static: _start makes the exit
 * syscall and nothing else. Spawning it costs what the kernel and the
 * supervisor cost, without glibc's start-up (dozens of CPUID instructions,
 * each trapped by this VM's hypervisor).
 */
#if defined(__x86_64__)
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	movl $60, %eax\n" /* SYS_exit */
	"	xorl %edi, %edi\n"
	"	syscall\n"
	"	hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	mov x8, #93\n" /* SYS_exit */
	"	mov x0, #0\n"
	"	svc #0\n"
	"	b .\n");
#else
#error "true-static: add _start for this architecture"
#endif
