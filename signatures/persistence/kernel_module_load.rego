# Kernel module load: a process asks the kernel to load a module.
#
# Loading code into the kernel is how rootkits get below every other sensor;
# on most hosts modules load at boot, by udev or by the package manager, and
# rarely afterwards. Every attempt is reported, successful or not: a failed
# load (unsigned module, lockdown, missing symbol) still shows intent.
package vigil.signatures.kernel_module_load

import data.vigil.lib

metadata := {
	"id": "kernel-module-load",
	"name": "Kernel module load",
	"version": "1.0.0",
	"severity": "high",
	"description": "A process asked the kernel to load a module (init_module or finit_module), successful or not. Kernel modules run with full privilege and are how rootkits persist and hide.",
	"tactics": ["TA0003", "TA0004"],
	"techniques": ["T1547.006"],
	"tags": ["kernel", "rootkit", "module"],
	"events": ["init_module", "finit_module"],
}

# source names where the module image came from: the file behind the fd for
# finit_module, the caller's memory for init_module.
source := lib.arg("pathname", "") if input.name == "finit_module"

source := "memory" if input.name == "init_module"

finding contains {
	"syscall": input.name,
	"source": source,
	"image_size": lib.arg("len", 0),
	"params": lib.arg("param_values", ""),
	"succeeded": input.return_value == 0,
	"return_value": input.return_value,
	"ancestry": lib.ancestry,
} if {
	input.name in {"init_module", "finit_module"}
}
