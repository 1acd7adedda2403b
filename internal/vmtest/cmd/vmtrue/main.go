// Command vmtrue is /bin/true in the vmtest guest: a standalone static
// program that exits 0. The rest of /bin is busybox, which picks its applet
// from argv[0]; tests that copy /bin/true elsewhere (into a memfd, under
// another name) need a binary that does not care what it is called.
package main

func main() {}
