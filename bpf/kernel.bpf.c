// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * The kernel's own facilities: namespaces, capabilities, cgroups, BPF, tracing.
 */
#include "lib/common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
