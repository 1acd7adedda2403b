package load

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/rs/zerolog"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/bpf"
)

// TC attachment: a classifier program (section tc/ingress or tc/egress) is
// attached to every interface that is up when the sensor starts and to
// every interface that comes up later, until Close. Kernels from 6.6 take a
// tcx link per interface (several programs coexist, and the link goes away
// with the sensor's process); older ones get a clsact qdisc and a cls_bpf
// filter in direct-action mode, through netlink, removed again on Close.
// Loopback gets the egress program only: every packet on lo passes egress
// and then ingress, and is reported once.

// ForceClsact makes the classifiers use clsact and cls_bpf even where tcx
// works: tests prove the older kernels' path on this one (set it before the
// loader attaches them).
var ForceClsact = false

// Priority of vigil's cls_bpf filters (the clsact path), and the first
// handle tried (offset by the sensor's pid, see addClsactFilter).
const (
	tcFilterPriority = 1
	tcFilterHandle   = 0x7667
)

type TCAttachment struct {
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
// owners is the endpoint_owners map the loader shares with the programs.
func attachTC(log zerolog.Logger, ps *ebpf.ProgramSpec, p *ebpf.Program, owners *ebpf.Map) (io.Closer, error) {
	var egress bool
	switch ps.SectionName {
	case "tc/ingress":
	case "tc/egress":
		egress = true
	default:
		return nil, fmt.Errorf("classifier %s: section %q is neither tc/ingress nor tc/egress", ps.Name, ps.SectionName)
	}
	a := &TCAttachment{log: log.With().Str("program", ps.Name).Logger(), prog: p, name: ps.Name, egress: egress,
		ifaces: map[int]io.Closer{}, done: make(chan struct{})}
	if n, err := seedOwnEndpoints(owners); err != nil {
		a.log.Warn().Err(err).Msg("the sensor's own sockets are not known to the classifiers: its traffic may be reported")
	} else {
		a.log.Debug().Int("sockets", n).Msg("the sensor's own sockets")
	}

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
func (a *TCAttachment) add(l netlink.Link) error {
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
	if !a.decided && ForceClsact {
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

func (a *TCAttachment) remove(index int) {
	a.mu.Lock()
	c := a.ifaces[index]
	delete(a.ifaces, index)
	a.mu.Unlock()
	if c != nil {
		// the kernel detached it with the interface; this frees the rest
		c.Close()
	}
}

func (a *TCAttachment) attachTCX(index int) (io.Closer, error) {
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

func (a *TCAttachment) attachClsact(index int) (io.Closer, error) {
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
	f, err := addClsactFilter(index, parent, a.prog, "vigil_"+a.name)
	if err != nil {
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

// addClsactFilter adds prog as a direct-action cls_bpf filter under
// parent. Its handle starts from the sensor's pid and moves on when taken:
// a filter of another sensor on the host (an overlapping restart, a test)
// keeps its own handle, so neither replaces nor removes the other's.
func addClsactFilter(index int, parent uint32, prog *ebpf.Program, name string) (*netlink.BpfFilter, error) {
	base := uint32(os.Getpid())
	var err error
	for try := uint32(0); try < 16; try++ {
		h := uint16(tcFilterHandle + base + try)
		if h == 0 {
			continue // 0 asks the kernel to choose
		}
		f := &netlink.BpfFilter{
			FilterAttrs: netlink.FilterAttrs{
				LinkIndex: index, Parent: parent, Handle: netlink.MakeHandle(0, h),
				Protocol: unix.ETH_P_ALL, Priority: tcFilterPriority,
			},
			Fd: prog.FD(), Name: name, DirectAction: true,
		}
		if err = netlink.FilterAdd(f); err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EEXIST) {
			return nil, err
		}
	}
	return nil, err
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
func (a *TCAttachment) Close() error {
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

// Mode says how the classifier is attached: "tcx", "clsact", or "" before
// its first interface.
func (a *TCAttachment) Mode() string {
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

// Interfaces names the interfaces the classifier is attached to.
func (a *TCAttachment) Interfaces() []string {
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

// The sensor's own sockets made before its programs were attached (the
// NATS connection is opened first) were seen by no hook; the classifiers
// would report their packets, and every event published would make more.
// seedOwnEndpoints writes their local ends into endpoint_owners as the
// sensor's, from /proc: the sockets behind /proc/self/fd, their addresses
// in /proc/self/net/{tcp,udp}{,6}. Later sockets are remembered by the
// hooks (connect's SYN_SENT, listen's LISTEN, in the sensor's context).

// seedOwnEndpoints writes the sensor's own socket ends into endpoint_owners
// (the loader's shared instance). Key and value are struct endpoint and
// struct endpoint_val of bpf/lib/net.h, as bpf2go generates them from the
// object's BTF (TestEndpointLayout checks their sizes).
func seedOwnEndpoints(m *ebpf.Map) (int, error) {
	if m == nil {
		return 0, errors.New("no endpoint_owners map")
	}
	inodes, err := ownSocketInodes()
	if err != nil {
		return 0, err
	}
	var owner bpf.TcRecordHeader
	owner.HostPid = uint32(os.Getpid())
	owner.Pid = owner.HostPid
	n := 0
	for _, t := range []struct {
		file  string
		proto uint8
	}{{"tcp", unix.IPPROTO_TCP}, {"tcp6", unix.IPPROTO_TCP}, {"udp", unix.IPPROTO_UDP}, {"udp6", unix.IPPROTO_UDP}} {
		ends, err := procNetEnds(filepath.Join("/proc/self/net", t.file), inodes)
		if err != nil {
			continue // no IPv6, say
		}
		for _, e := range ends {
			k := bpf.Endpoint{Protocol: t.proto, Port: e.port, Addr: e.addr}
			if err := m.Update(&k, &bpf.EndpointVal{Owner: owner}, ebpf.UpdateAny); err != nil {
				return n, fmt.Errorf("remembering %s port %d: %w", t.file, e.port, err)
			}
			n++
		}
	}
	return n, nil
}

// ownSocketInodes are the inodes of the sockets this process has open.
func ownSocketInodes() (map[uint64]bool, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	out := map[uint64]bool{}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || !strings.HasPrefix(target, "socket:[") {
			continue
		}
		if ino, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]"), 10, 64); err == nil {
			out[ino] = true
		}
	}
	return out, nil
}

type localEnd struct {
	port uint16
	addr [16]byte // v4-mapped for IPv4, zero for the wildcard
}

// procNetEnds reads the local ends of the sockets in inodes from a
// /proc/net/{tcp,udp}{,6} table ("sl local_address rem_address st ... inode").
func procNetEnds(path string, inodes map[uint64]bool) ([]localEnd, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []localEnd
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 {
			continue
		}
		ino, err := strconv.ParseUint(fields[9], 10, 64)
		if err != nil || !inodes[ino] {
			continue
		}
		addrHex, portHex, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(portHex, 16, 16)
		if err != nil || port == 0 {
			continue
		}
		raw, err := hex.DecodeString(addrHex)
		if err != nil || (len(raw) != 4 && len(raw) != 16) {
			continue
		}
		// the kernel prints each 32-bit word of the address in host order
		for i := 0; i+4 <= len(raw); i += 4 {
			raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
		}
		e := localEnd{port: uint16(port)}
		if len(raw) == 4 {
			if raw[0]|raw[1]|raw[2]|raw[3] != 0 {
				e.addr[10], e.addr[11] = 0xff, 0xff
				copy(e.addr[12:], raw)
			}
		} else {
			copy(e.addr[:], raw)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// Program is the classifier attached.
func (a *TCAttachment) Program() *ebpf.Program { return a.prog }

// Egress tells whether the classifier runs on egress (else ingress).
func (a *TCAttachment) Egress() bool { return a.egress }

// Name is the classifier program's name.
func (a *TCAttachment) Name() string { return a.name }
