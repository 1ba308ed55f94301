package dataset

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// maxPageBytes bounds the uncompressed size of one Parquet page. Writers
// make pages of about a megabyte; a larger claim is a damaged file, and
// parquet-go would allocate it before finding out.
const maxPageBytes = 1 << 30

// checkFooter refuses a file whose footer length points outside it.
func checkFooter(ra io.ReaderAt, size int64) error {
	if size < 12 {
		return fmt.Errorf("%d bytes is too small for a Parquet file", size)
	}
	var tail [8]byte
	if _, err := ra.ReadAt(tail[:], size-8); err != nil {
		return fmt.Errorf("reading the footer: %w", err)
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return fmt.Errorf("footer of %d bytes does not fit in a file of %d bytes", n, size)
	}
	return nil
}

// checkChunk reads the page headers of one column chunk and refuses
// sizes, counts and codecs that the file cannot hold or that parquet-go
// does not decode safely, before parquet-go allocates for them. rows is
// the number of rows in the row group.
func checkChunk(ra io.ReaderAt, size int64, cc *format.ColumnChunk, rows int64) error {
	md := &cc.MetaData
	switch md.Codec {
	case format.Uncompressed, format.Snappy, format.Gzip, format.Zstd, format.Brotli:
	default:
		return fmt.Errorf("compression %s is not supported; write the file uncompressed or with SNAPPY, GZIP, ZSTD or BROTLI", md.Codec)
	}
	start := md.DataPageOffset
	if md.DictionaryPageOffset != 0 {
		start = md.DictionaryPageOffset
	}
	n := md.TotalCompressedSize
	if start < 4 || n < 0 || start > size || n > size-start {
		return fmt.Errorf("column chunk of %d bytes at offset %d is outside the file of %d bytes", n, start, size)
	}
	var proto thrift.CompactProtocol
	end := start + n
	for pos := start; pos < end; {
		cr := &countingReader{r: io.NewSectionReader(ra, pos, end-pos)}
		br := bufio.NewReader(cr)
		var h format.PageHeader
		if err := thrift.NewDecoder(proto.NewReader(br)).Decode(&h); err != nil {
			return fmt.Errorf("page header at offset %d: %w", pos, err)
		}
		data := pos + cr.n - int64(br.Buffered())
		left := end - data
		if h.CompressedPageSize < 0 || int64(h.CompressedPageSize) > left {
			return fmt.Errorf("page of %d bytes with %d bytes left in the column chunk", h.CompressedPageSize, left)
		}
		if h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxPageBytes {
			return fmt.Errorf("page claims %d bytes uncompressed, over the limit of %d", h.UncompressedPageSize, maxPageBytes)
		}
		levels := int32(0)
		switch {
		case h.DataPageHeader.Valid:
			if v := h.DataPageHeader.V.NumValues; v < 0 || int64(v) > rows {
				return fmt.Errorf("page of %d values in a row group of %d rows", v, rows)
			}
		case h.DataPageHeaderV2.Valid:
			v := h.DataPageHeaderV2.V
			if v.NumValues < 0 || int64(v.NumValues) > rows || v.NumRows < 0 || int64(v.NumRows) > rows || v.NumNulls < 0 || v.NumNulls > v.NumValues {
				return fmt.Errorf("page of %d values, %d rows and %d nulls in a row group of %d rows", v.NumValues, v.NumRows, v.NumNulls, rows)
			}
			if v.RepetitionLevelsByteLength < 0 || v.DefinitionLevelsByteLength < 0 ||
				int64(v.RepetitionLevelsByteLength)+int64(v.DefinitionLevelsByteLength) > int64(h.CompressedPageSize) {
				return fmt.Errorf("page levels of %d and %d bytes in a page of %d", v.RepetitionLevelsByteLength, v.DefinitionLevelsByteLength, h.CompressedPageSize)
			}
			levels = v.RepetitionLevelsByteLength + v.DefinitionLevelsByteLength
		case h.DictionaryPageHeader.Valid:
			if v := h.DictionaryPageHeader.V.NumValues; v < 0 || v > h.UncompressedPageSize {
				return fmt.Errorf("dictionary of %d values in a page of %d bytes", v, h.UncompressedPageSize)
			}
		}
		if md.Codec == format.Uncompressed && h.UncompressedPageSize > h.CompressedPageSize {
			return fmt.Errorf("uncompressed page claims %d bytes but holds %d", h.UncompressedPageSize, h.CompressedPageSize)
		}
		if md.Codec == format.Snappy && h.CompressedPageSize > levels {
			// A Snappy block starts with its decoded length, which the
			// decoder allocates.
			var head [binary.MaxVarintLen64]byte
			k, _ := ra.ReadAt(head[:min(len(head), int(h.CompressedPageSize-levels))], data+int64(levels))
			dlen, m := binary.Uvarint(head[:k])
			if m <= 0 || dlen > uint64(h.UncompressedPageSize) {
				return fmt.Errorf("snappy block larger than the %d bytes its page claims", h.UncompressedPageSize)
			}
		}
		pos = data + int64(h.CompressedPageSize)
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
