package bzimage

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"testing"
)

// tinyELF builds a minimal x86-64 ELF with one PT_NOTE segment holding a
// note (name, type).
func tinyELF(noteName string, noteType uint32) []byte {
	var note bytes.Buffer
	name := append([]byte(noteName), 0)
	binary.Write(&note, binary.LittleEndian, []uint32{uint32(len(name)), 4, noteType})
	note.Write(name)
	for note.Len()%4 != 0 {
		note.WriteByte(0)
	}
	note.Write([]byte{1, 2, 3, 4})

	const ehsize, phentsize = 64, 56
	var b bytes.Buffer
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2 /*64-bit*/, 1 /*LE*/, 1, 0})
	b.Write(make([]byte, 8))
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	le(uint16(2))         // e_type EXEC
	le(uint16(62))        // e_machine x86-64
	le(uint32(1))         // e_version
	le(uint64(0x1000000)) // e_entry
	le(uint64(ehsize))    // e_phoff
	le(uint64(0))         // e_shoff
	le(uint32(0))         // e_flags
	le(uint16(ehsize))
	le(uint16(phentsize))
	le(uint16(1)) // e_phnum
	le(uint16(64))
	le(uint16(0))
	le(uint16(0))
	// program header: PT_NOTE
	le(uint32(4))
	le(uint32(4))
	le(uint64(ehsize + phentsize)) // p_offset
	le(uint64(0))
	le(uint64(0))
	le(uint64(note.Len()))
	le(uint64(note.Len()))
	le(uint64(4))
	b.Write(note.Bytes())
	return b.Bytes()
}

// fakeBzImage wraps a compressed payload in a boot sector and setup header
// the way arch/x86/boot lays them out, with the decompressed size appended.
func fakeBzImage(payload []byte, size uint32) []byte {
	const setupSects = 3
	img := make([]byte, (setupSects+1)*512)
	img[offSetupSects] = setupSects
	copy(img[offHeaderMagic:], "HdrS")
	binary.LittleEndian.PutUint16(img[offVersion:], 0x20f)
	pm := make([]byte, 0x300) // decompressor code before the payload
	binary.LittleEndian.PutUint32(img[offPayloadOffset:], uint32(len(pm)))
	binary.LittleEndian.PutUint32(img[offPayloadLength:], uint32(len(payload)+4))
	img = append(img, pm...)
	img = append(img, payload...)
	img = binary.LittleEndian.AppendUint32(img, size)
	return append(img, make([]byte, 100)...) // trailing padding, as in real images
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestExtractGzipPVH(t *testing.T) {
	elfImg := tinyELF("Xen", xenElfnotePhys32Entry)
	img := fakeBzImage(gz(elfImg), uint32(len(elfImg)))
	out, info, err := Extract(img)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, elfImg) {
		t.Errorf("extracted %d bytes, want the %d-byte ELF", len(out), len(elfImg))
	}
	if info.Codec != Gzip || !info.PVH {
		t.Errorf("info = %+v, want gzip with PVH", info)
	}
}

func TestExtractNoPVHNote(t *testing.T) {
	elfImg := tinyELF("GNU", 3)
	_, info, err := Extract(fakeBzImage(gz(elfImg), uint32(len(elfImg))))
	if err != nil {
		t.Fatal(err)
	}
	if info.PVH {
		t.Error("PVH reported for an image without the Xen PHYS32_ENTRY note")
	}
}

func TestExtractErrors(t *testing.T) {
	elfImg := tinyELF("Xen", xenElfnotePhys32Entry)
	cases := []struct {
		name string
		img  []byte
		want error
	}{
		{"not a bzImage", make([]byte, 4096), ErrNotBzImage},
		{"unknown codec", fakeBzImage([]byte("plain text payload"), 18), ErrUnknownCodec},
		{"not ELF", fakeBzImage(gz([]byte("hello")), 5), ErrNotELF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := Extract(c.img); !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
	t.Run("size mismatch", func(t *testing.T) {
		_, _, err := Extract(fakeBzImage(gz(elfImg), uint32(len(elfImg)+1)))
		if err == nil {
			t.Fatal("no error for a payload shorter than the appended size")
		}
	})
	t.Run("old protocol", func(t *testing.T) {
		img := fakeBzImage(gz(elfImg), uint32(len(elfImg)))
		binary.LittleEndian.PutUint16(img[offVersion:], 0x206)
		if _, _, err := Extract(img); !errors.Is(err, ErrOldProtocol) {
			t.Errorf("err = %v, want %v", err, ErrOldProtocol)
		}
	})
	t.Run("payload outside image", func(t *testing.T) {
		img := fakeBzImage(gz(elfImg), uint32(len(elfImg)))
		binary.LittleEndian.PutUint32(img[offPayloadLength:], 1<<30)
		if _, _, err := Extract(img); err == nil {
			t.Error("no error for a payload length past the end of the image")
		}
	})
}
