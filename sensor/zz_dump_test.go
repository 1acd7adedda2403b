package sensor

import (
	"fmt"
	"testing"
)

func TestZZDumpPlan(t *testing.T) {
	in, _ := shippedInterest(t)
	p := planOpenFilter(in.Events["security_file_open"])
	fmt.Printf("plan: %v mask=%#x\nprefixes=%v\nexact=%v\nnames=%v\nneedles=%v\npathfree=%x never=%x\n", p, p.flagMask(), p.prefixes, p.exact, p.names, p.needles, p.pathFree(), p.never)
	for i := 0; i < p.nalts; i++ {
		fmt.Printf("alt %d any=%#x none=%#x\n", i, p.any[i], p.none[i])
	}
	fs := p.flagSets()
	fmt.Println("flagsets", len(fs), fs[0x8000], fs[0])
}
