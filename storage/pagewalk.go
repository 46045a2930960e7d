package storage

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// bbolt's on-disk page format (go.etcd.io/bbolt/internal/common/page.go),
// read here without trusting it: every offset and page id is bounds-checked
// before use. bbolt itself trusts the file, and a garbage offset makes it
// panic or fault; its own tx.Check does so in a goroutine no recover
// reaches.
const (
	pageHeaderSize   = 16 // id u64, flags u16, count u16, overflow u32
	pageElementSize  = 16 // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	bucketLeafFlag   = 0x01
	bucketHeaderSize = 16 // root pgid u64, sequence u64
)

// pageWalker checks every page reachable from the root bucket: ids inside
// the file, each page referenced once (so no cycles), element offsets inside
// their page, keys present.
type pageWalker struct {
	data    []byte // the mapped file up to the high-water mark
	ps      int
	visited map[uint64]bool
}

// walkPages runs the walker over tx's view of the file.
func walkPages(db *bolt.DB, tx *bolt.Tx) error {
	info := db.Info()
	// Reinterpreting the field's memory (rather than converting a uintptr)
	// keeps go vet's unsafeptr check satisfied; the mmap is not Go heap,
	// and tx holds it in place.
	base := *(*unsafe.Pointer)(unsafe.Pointer(&info.Data))
	w := &pageWalker{
		data:    unsafe.Slice((*byte)(base), int(tx.Size())),
		ps:      info.PageSize,
		visited: map[uint64]bool{},
	}
	return w.page(uint64(tx.Cursor().Bucket().RootPage()), "root")
}

func (w *pageWalker) page(id uint64, where string) error {
	n := uint64(len(w.data) / w.ps)
	if id < 2 || id >= n {
		return fmt.Errorf("%s: page %d is outside the file (%d pages)", where, id, n)
	}
	if w.visited[id] {
		return fmt.Errorf("%s: page %d is referenced twice", where, id)
	}
	w.visited[id] = true
	off := int(id) * w.ps
	hdr := w.data[off : off+pageHeaderSize]
	if got := binary.LittleEndian.Uint64(hdr); got != id {
		return fmt.Errorf("%s: page %d says it is page %d", where, id, got)
	}
	overflow := uint64(binary.LittleEndian.Uint32(hdr[12:]))
	if id+overflow >= n {
		return fmt.Errorf("%s: page %d overflows past the end of the file", where, id)
	}
	for i := range overflow {
		w.visited[id+1+i] = true
	}
	return w.elements(w.data[off:off+int(overflow+1)*w.ps], fmt.Sprintf("page %d", id))
}

// elements checks the elements of the page p (a whole page, or an inline
// bucket's page inside a value) and follows its children.
func (w *pageWalker) elements(p []byte, where string) error {
	if len(p) < pageHeaderSize {
		return fmt.Errorf("%s: shorter than a page header", where)
	}
	flags := binary.LittleEndian.Uint16(p[8:])
	count := int(binary.LittleEndian.Uint16(p[10:]))
	if flags != branchPageFlag && flags != leafPageFlag {
		return fmt.Errorf("%s: not a branch or leaf page (flags %#x)", where, flags)
	}
	if flags == branchPageFlag && count == 0 {
		return fmt.Errorf("%s: an empty branch page", where) // bbolt never writes one; its cursor would read past the elements
	}
	if pageHeaderSize+count*pageElementSize > len(p) {
		return fmt.Errorf("%s: %d elements do not fit", where, count)
	}
	for i := range count {
		eo := pageHeaderSize + i*pageElementSize
		e := p[eo : eo+pageElementSize]
		if flags == branchPageFlag {
			pos, ksize := int(binary.LittleEndian.Uint32(e)), int(binary.LittleEndian.Uint32(e[4:]))
			if ksize == 0 || eo+pos+ksize > len(p) || eo+pos+ksize < eo {
				return fmt.Errorf("%s: element %d: key outside the page", where, i)
			}
			if err := w.page(binary.LittleEndian.Uint64(e[8:]), where); err != nil {
				return err
			}
			continue
		}
		lf := binary.LittleEndian.Uint32(e)
		pos := int(binary.LittleEndian.Uint32(e[4:]))
		ksize := int(binary.LittleEndian.Uint32(e[8:]))
		vsize := int(binary.LittleEndian.Uint32(e[12:]))
		start, end := eo+pos, eo+pos+ksize+vsize
		if ksize == 0 || end > len(p) || end < eo || start+ksize < start {
			return fmt.Errorf("%s: element %d: key or value outside the page", where, i)
		}
		if lf&bucketLeafFlag == 0 {
			continue
		}
		v := p[start+ksize : end]
		if len(v) < bucketHeaderSize {
			return fmt.Errorf("%s: element %d: bucket header too short", where, i)
		}
		key := fmt.Sprintf("%s/bucket %q", where, p[start:start+ksize])
		if root := binary.LittleEndian.Uint64(v); root != 0 {
			if err := w.page(root, key); err != nil {
				return err
			}
		} else if inline := v[bucketHeaderSize:]; len(inline) < pageHeaderSize || binary.LittleEndian.Uint16(inline[8:]) != leafPageFlag {
			return fmt.Errorf("%s: an inline bucket that is not a leaf page", key)
		} else if err := w.elements(inline, key+" (inline)"); err != nil {
			return err
		}
	}
	return nil
}
