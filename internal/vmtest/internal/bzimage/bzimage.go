package bzimage

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os/exec"
)

// Errors returned by Payload and Extract.
var (
	ErrNotBzImage   = errors.New("not a bzImage (no HdrS setup header)")
	ErrOldProtocol  = errors.New("boot protocol older than 2.08 has no payload fields")
	ErrUnknownCodec = errors.New("unknown payload compression")
	ErrNotELF       = errors.New("decompressed payload is not an x86-64 ELF image")
)

// Offsets in the real-mode setup header (Documentation/arch/x86/boot.rst).
const (
	offSetupSects    = 0x1f1
	offHeaderMagic   = 0x202
	offVersion       = 0x206
	offPayloadOffset = 0x248
	offPayloadLength = 0x24c
	headerEnd        = 0x250
)

// Codec names a payload compression.
type Codec string

// Known payload compressions.
const (
	Gzip  Codec = "gzip"
	Bzip2 Codec = "bzip2"
	XZ    Codec = "xz"
	LZMA  Codec = "lzma"
	LZ4   Codec = "lz4"
	Zstd  Codec = "zstd"
	LZO   Codec = "lzo"
)

var magics = []struct {
	codec Codec
	magic []byte
}{
	{Gzip, []byte{0x1f, 0x8b}},
	{XZ, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{Bzip2, []byte{'B', 'Z', 'h'}},
	{LZMA, []byte{0x5d, 0x00, 0x00}},
	{LZ4, []byte{0x02, 0x21, 0x4c, 0x18}}, // legacy lz4 frame, as the kernel writes it
	{Zstd, []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{LZO, []byte{0x89, 'L', 'Z', 'O'}},
}

// Payload is the compressed kernel found inside a bzImage.
type Payload struct {
	Codec Codec
	Data  []byte // compressed stream, without the appended size
	Size  uint32 // decompressed size that the kernel build appended
	Off   int    // byte offset of Data in the bzImage
}

// FindPayload locates the compressed kernel in a bzImage.
func FindPayload(img []byte) (*Payload, error) {
	if len(img) < headerEnd || string(img[offHeaderMagic:offHeaderMagic+4]) != "HdrS" {
		return nil, ErrNotBzImage
	}
	if v := binary.LittleEndian.Uint16(img[offVersion:]); v < 0x208 {
		return nil, fmt.Errorf("%w: version %d.%02d", ErrOldProtocol, v>>8, v&0xff)
	}
	setupSects := int(img[offSetupSects])
	if setupSects == 0 {
		setupSects = 4
	}
	// The protected-mode kernel follows the boot sector and the setup sectors;
	// payload_offset counts from there.
	pmStart := (setupSects + 1) * 512
	off := pmStart + int(binary.LittleEndian.Uint32(img[offPayloadOffset:]))
	n := int(binary.LittleEndian.Uint32(img[offPayloadLength:]))
	if n < 8 || off < 0 || off+n > len(img) {
		return nil, fmt.Errorf("payload at offset %d length %d lies outside the %d-byte image", off, n, len(img))
	}
	raw := img[off : off+n]
	p := &Payload{
		Data: raw[:n-4],
		Size: binary.LittleEndian.Uint32(raw[n-4:]),
		Off:  off,
	}
	for _, m := range magics {
		if bytes.HasPrefix(raw, m.magic) {
			p.Codec = m.codec
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: payload at offset %d starts with % x", ErrUnknownCodec, off, raw[:min(8, len(raw))])
}

// Decompress returns the uncompressed payload.
func (p *Payload) Decompress() ([]byte, error) {
	var out []byte
	var err error
	switch p.Codec {
	case Gzip:
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(p.Data)); err == nil {
			out, err = io.ReadAll(zr)
		}
	case Bzip2:
		out, err = io.ReadAll(bzip2.NewReader(bytes.NewReader(p.Data)))
	case XZ:
		out, err = runTool(p.Data, "xz", "xz-utils", "-dc", "--single-stream")
	case LZMA:
		out, err = runTool(p.Data, "xz", "xz-utils", "-dc", "--format=lzma")
	case LZ4:
		out, err = runTool(p.Data, "lz4", "lz4", "-dc")
	case Zstd:
		out, err = runTool(p.Data, "zstd", "zstd", "-dc")
	case LZO:
		out, err = runTool(p.Data, "lzop", "lzop", "-dc")
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownCodec, p.Codec)
	}
	if err != nil {
		return nil, fmt.Errorf("decompressing %s payload: %w", p.Codec, err)
	}
	if uint32(len(out)) != p.Size {
		return nil, fmt.Errorf("decompressing %s payload: got %d bytes, the image says %d", p.Codec, len(out), p.Size)
	}
	return out, nil
}

func runTool(in []byte, tool, pkg string, args ...string) ([]byte, error) {
	path, err := exec.LookPath(tool)
	if err != nil {
		return nil, fmt.Errorf("%s not found (Debian package %s): %w", tool, pkg, err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %v: %w: %s", tool, args, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// Info describes an extracted vmlinux.
type Info struct {
	Codec Codec
	Size  int  // bytes of the ELF image (the build may append relocations after it)
	PVH   bool // has the Xen PVH entry note that qemu's -kernel needs for a direct ELF boot
}

// xenElfnotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY: the 32-bit PVH entry point.
const xenElfnotePhys32Entry = 18

// Extract decompresses a bzImage and returns the vmlinux ELF image inside it.
func Extract(img []byte) ([]byte, *Info, error) {
	p, err := FindPayload(img)
	if err != nil {
		return nil, nil, err
	}
	out, err := p.Decompress()
	if err != nil {
		return nil, nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(out))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrNotELF, err)
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return nil, nil, fmt.Errorf("%w: class %v machine %v", ErrNotELF, f.Class, f.Machine)
	}
	info := &Info{Codec: p.Codec, Size: len(out), PVH: hasPVHNote(f)}
	// The compressed blob is vmlinux followed by the relocation table; the
	// ELF ends with its section header table.
	if end := elfEnd(out, f); end > 0 && end <= len(out) {
		info.Size = end
	}
	return out[:info.Size], info, nil
}

// elfEnd returns where the ELF file ends: after its section header table or
// its last segment, whichever is later. The ELF64 header is at least 64 bytes
// here because elf.NewFile accepted it.
func elfEnd(img []byte, f *elf.File) int {
	shoff := binary.LittleEndian.Uint64(img[0x28:])
	shentsize := binary.LittleEndian.Uint16(img[0x3a:])
	shnum := binary.LittleEndian.Uint16(img[0x3c:])
	end := uint64(0)
	if shoff > 0 {
		end = shoff + uint64(shentsize)*uint64(shnum)
	}
	for _, p := range f.Progs {
		end = max(end, p.Off+p.Filesz)
	}
	if end > uint64(len(img)) {
		return -1
	}
	return int(end)
}

func hasPVHNote(f *elf.File) bool {
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			continue
		}
		for len(b) >= 12 {
			namesz := int(binary.LittleEndian.Uint32(b[0:]))
			descsz := int(binary.LittleEndian.Uint32(b[4:]))
			typ := binary.LittleEndian.Uint32(b[8:])
			nameEnd := 12 + align4(namesz)
			next := nameEnd + align4(descsz)
			if namesz > len(b) || next > len(b) || nameEnd > len(b) {
				break
			}
			name := string(bytes.TrimRight(b[12:12+namesz], "\x00"))
			if name == "Xen" && typ == xenElfnotePhys32Entry {
				return true
			}
			b = b[next:]
		}
	}
	return false
}

func align4(n int) int { return (n + 3) &^ 3 }
