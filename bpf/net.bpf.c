// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//go:build ignore

/*
 * Network: sockets, connections, DNS, packets (TC classifiers).
 */
#include "lib/common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
