package sensor

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/rs/zerolog"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The network family's maps are shared by its programs like the common ones
// (bpf/lib/net.h): each program is loaded alone, and the owner a connect
// exit remembers must be the one a TC classifier finds.
func init() {
	sharedMaps = append(sharedMaps, "sock_owners", "endpoint_owners")
}

// TC attachment: a classifier program (section tc/ingress or tc/egress) is
// attached to every interface that is up when the sensor starts and to
// every interface that comes up later, until Close. Kernels from 6.6 take a
// tcx link per interface (several programs coexist, and the link goes away
// with the sensor's process); older ones get a clsact qdisc and a cls_bpf
// filter in direct-action mode, through netlink, removed again on Close.
// Loopback gets the egress program only: every packet on lo passes egress
// and then ingress, and is reported once.

// tcForceClsact makes the classifiers use clsact and cls_bpf even where tcx
// works: tests prove the older kernels' path on this one.
var tcForceClsact = false

// Priority and handle of vigil's cls_bpf filters (the clsact path).
const (
	tcFilterPriority = 1
	tcFilterHandle   = 0x7667
)

type tcAttachment struct {
	log    zerolog.Logger
	prog   *ebpf.Program
	name   string
	egress bool

	mu      sync.Mutex
	tcx     bool // tcx links, else clsact filters
	decided bool
	ifaces  map[int]io.Closer
	closed  bool
	done    chan struct{}
	wg      sync.WaitGroup
}

// attachTC attaches a classifier to every interface and follows new ones.
func attachTC(log zerolog.Logger, ps *ebpf.ProgramSpec, p *ebpf.Program) (io.Closer, error) {
	var egress bool
	switch ps.SectionName {
	case "tc/ingress":
	case "tc/egress":
		egress = true
	default:
		return nil, fmt.Errorf("classifier %s: section %q is neither tc/ingress nor tc/egress", ps.Name, ps.SectionName)
	}
	a := &tcAttachment{log: log.With().Str("program", ps.Name).Logger(), prog: p, name: ps.Name, egress: egress,
		ifaces: map[int]io.Closer{}, done: make(chan struct{})}

	// subscribe before listing, so that no interface falls in between
	updates := make(chan netlink.LinkUpdate, 64)
	if err := netlink.LinkSubscribeWithOptions(updates, a.done, netlink.LinkSubscribeOptions{
		ErrorCallback: func(err error) {
			a.mu.Lock()
			closed := a.closed
			a.mu.Unlock()
			if !closed {
				a.log.Warn().Err(err).Msg("following interfaces")
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("following interfaces: %w", err)
	}
	links, err := netlink.LinkList()
	if err != nil {
		close(a.done)
		return nil, fmt.Errorf("listing interfaces: %w", err)
	}
	var errs []error
	for _, l := range links {
		if err := a.add(l); err != nil {
			errs = append(errs, err)
		}
	}
	a.mu.Lock()
	n := len(a.ifaces)
	a.mu.Unlock()
	// No interface at all is no error (an ingress program on a host with
	// only loopback waits for the first one); failing on every one is.
	if n == 0 && len(errs) > 0 {
		a.Close()
		return nil, errors.Join(errs...)
	}
	for _, err := range errs {
		a.log.Warn().Err(err).Msg("classifier not attached to an interface")
	}
	a.log.Debug().Int("interfaces", n).Bool("tcx", a.tcx).Msg("classifier attached")

	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for u := range updates {
			switch u.Header.Type {
			case unix.RTM_NEWLINK:
				if err := a.add(u.Link); err != nil {
					a.log.Warn().Err(err).Msg("classifier not attached to a new interface")
				}
			case unix.RTM_DELLINK:
				a.remove(int(u.Attrs().Index))
			}
		}
	}()
	return a, nil
}

// add attaches the classifier to l when l is up and not attached yet.
func (a *tcAttachment) add(l netlink.Link) error {
	attrs := l.Attrs()
	if attrs.Flags&net.FlagUp == 0 || (!a.egress && attrs.Flags&net.FlagLoopback != 0) {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || a.ifaces[attrs.Index] != nil {
		return nil
	}
	var c io.Closer
	var err error
	if !a.decided && tcForceClsact {
		a.decided, a.tcx = true, false
	}
	if !a.decided || a.tcx {
		c, err = a.attachTCX(attrs.Index)
		if errors.Is(err, ebpf.ErrNotSupported) && !a.decided {
			a.decided, a.tcx = true, false
			c, err = a.attachClsact(attrs.Index)
		} else if err == nil {
			a.decided, a.tcx = true, true
		}
	} else {
		c, err = a.attachClsact(attrs.Index)
	}
	if err != nil {
		return fmt.Errorf("interface %s: %w", attrs.Name, err)
	}
	a.ifaces[attrs.Index] = c
	return nil
}

func (a *tcAttachment) remove(index int) {
	a.mu.Lock()
	c := a.ifaces[index]
	delete(a.ifaces, index)
	a.mu.Unlock()
	if c != nil {
		// the kernel detached it with the interface; this frees the rest
		c.Close()
	}
}

func (a *tcAttachment) attachTCX(index int) (io.Closer, error) {
	at := ebpf.AttachTCXIngress
	if a.egress {
		at = ebpf.AttachTCXEgress
	}
	return link.AttachTCX(link.TCXOptions{Interface: index, Program: a.prog, Attach: at})
}

// clsact qdiscs vigil added, by interface, with the filters it holds on
// them: the last filter removed takes the qdisc along, unless someone else
// put filters on it meanwhile.
var clsact = struct {
	sync.Mutex
	ours map[int]int // ifindex -> vigil filters on a qdisc vigil created
}{ours: map[int]int{}}

type clsactFilter struct {
	filter *netlink.BpfFilter
	// ourQdisc: the qdisc is one vigil added, to remove with its last filter
	ourQdisc bool
}

func (a *tcAttachment) attachClsact(index int) (io.Closer, error) {
	clsact.Lock()
	defer clsact.Unlock()
	_, ourQdisc := clsact.ours[index]
	if !ourQdisc {
		q := &netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT}}
		switch err := netlink.QdiscAdd(q); {
		case err == nil:
			ourQdisc = true
		case errors.Is(err, unix.EEXIST):
		default:
			return nil, fmt.Errorf("adding a clsact qdisc: %w", err)
		}
	}
	parent := uint32(netlink.HANDLE_MIN_INGRESS)
	if a.egress {
		parent = netlink.HANDLE_MIN_EGRESS
	}
	f := &netlink.BpfFilter{
		FilterAttrs: netlink.FilterAttrs{
			LinkIndex: index, Parent: parent, Handle: netlink.MakeHandle(0, tcFilterHandle),
			Protocol: unix.ETH_P_ALL, Priority: tcFilterPriority,
		},
		Fd: a.prog.FD(), Name: "vigil_" + a.name, DirectAction: true,
	}
	if err := netlink.FilterReplace(f); err != nil {
		if ourQdisc && clsact.ours[index] == 0 {
			delete(clsact.ours, index)
			netlink.QdiscDel(&netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT}})
		}
		return nil, fmt.Errorf("adding a cls_bpf filter: %w", err)
	}
	if ourQdisc {
		clsact.ours[index]++
	}
	return &clsactFilter{filter: f, ourQdisc: ourQdisc}, nil
}

func (c *clsactFilter) Close() error {
	err := netlink.FilterDel(c.filter)
	if !c.ourQdisc {
		return err
	}
	clsact.Lock()
	defer clsact.Unlock()
	index := c.filter.LinkIndex
	if clsact.ours[index]--; clsact.ours[index] > 0 {
		return err
	}
	delete(clsact.ours, index)
	l, lerr := netlink.LinkByIndex(index)
	if lerr != nil {
		return err
	}
	for _, parent := range []uint32{netlink.HANDLE_MIN_INGRESS, netlink.HANDLE_MIN_EGRESS} {
		if fs, ferr := netlink.FilterList(l, parent); ferr != nil || len(fs) > 0 {
			return err
		}
	}
	return errors.Join(err, netlink.QdiscDel(&netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT}}))
}

// Close detaches the classifier from every interface and stops following
// new ones.
func (a *tcAttachment) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	ifaces := a.ifaces
	a.ifaces = map[int]io.Closer{}
	a.mu.Unlock()
	close(a.done)
	var errs []error
	for _, c := range ifaces {
		if err := c.Close(); err != nil && !errors.Is(err, unix.ENODEV) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, err)
		}
	}
	a.wg.Wait()
	return errors.Join(errs...)
}

// tcMode says how the classifiers are attached on this kernel, for tests
// and logs: "tcx", "clsact", or "" before anything was attached.
func (a *tcAttachment) mode() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case !a.decided:
		return ""
	case a.tcx:
		return "tcx"
	}
	return "clsact"
}

// interfaces names the interfaces the classifier is attached to.
func (a *tcAttachment) interfaces() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for idx := range a.ifaces {
		if l, err := netlink.LinkByIndex(idx); err == nil {
			out = append(out, l.Attrs().Name)
		}
	}
	return out
}
