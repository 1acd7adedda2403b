// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Files: opens, writes, links, mounts, memory mappings.
 */
#include "lib/common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
