/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* x86_64 syscall numbers the BPF side switches on (vmlinux.h has none). */
#ifndef VIGIL_SYSCALL_NR_H
#define VIGIL_SYSCALL_NR_H

#if defined(__TARGET_ARCH_x86)
#define NR_execve 59
#define NR_setuid 105
#define NR_setgid 106
#define NR_setreuid 113
#define NR_setregid 114
#define NR_setresuid 117
#define NR_setresgid 119
#define NR_setfsuid 122
#define NR_setfsgid 123
#define NR_capset 126
#define NR_init_module 175
#define NR_finit_module 313
#define NR_memfd_create 319
#define NR_execveat 322
#else
#error "vigil's BPF side knows only x86_64 syscall numbers so far"
#endif

#endif
