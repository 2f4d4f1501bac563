package main

import (
	"bytes"
	"fmt"
	"os"
)

// readOggOpus returns the Opus packets of an Ogg Opus file (RFC 7845), without its two header packets. Pages are
// joined by their lacing values (a packet may span pages); only one logical stream is expected. Granule positions
// are not read: the fixture is encoded with 20 ms frames (opusenc --framesize 20).
func readOggOpus(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var packets [][]byte
	var cur []byte
	for at := 0; at < len(b); {
		if len(b)-at < 27 || !bytes.Equal(b[at:at+4], []byte("OggS")) {
			return nil, fmt.Errorf("%s: no Ogg page at byte %d", path, at)
		}
		nseg := int(b[at+26])
		lacing := b[at+27 : at+27+nseg]
		body := at + 27 + nseg
		for _, l := range lacing {
			if body+int(l) > len(b) {
				return nil, fmt.Errorf("%s: truncated page at byte %d", path, at)
			}
			cur = append(cur, b[body:body+int(l)]...)
			body += int(l)
			if l < 255 {
				packets = append(packets, cur)
				cur = nil
			}
		}
		at = body
	}
	if len(packets) < 3 || !bytes.HasPrefix(packets[0], []byte("OpusHead")) || !bytes.HasPrefix(packets[1], []byte("OpusTags")) {
		return nil, fmt.Errorf("%s: not an Ogg Opus file with audio", path)
	}
	return packets[2:], nil
}
