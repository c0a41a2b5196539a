package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The load client is deliberately wrk-like: one keep-alive TCP connection per worker,
// requests written from pre-built bytes, responses read with just enough parsing to find
// their end (status line, Content-Length or chunked framing). net/http's client costs
// several times the CPU per request (header maps, a goroutine pair per connection,
// body wrappers), and on a 2-core machine every microsecond the client burns is taken
// from the server it measures.

// buildRequest is the bytes of one GET with the given extra header lines.
func buildRequest(host, path string, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: rosetta-bench\r\n", path, host)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// httpConn is one keep-alive connection to the server.
type httpConn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
}

func (h *httpConn) close() {
	if h.c != nil {
		h.c.Close()
		h.c, h.r = nil, nil
	}
}

// roundTrip sends req and reads the whole response, returning its status. A request on a
// kept-alive connection that the server closed in the meantime is retried once on a new
// connection, as browsers and wrk do.
func (h *httpConn) roundTrip(req []byte) (int, error) {
	for attempt := 0; ; attempt++ {
		reused := h.c != nil
		if h.c == nil {
			c, err := net.DialTimeout("tcp", h.addr, 5*time.Second)
			if err != nil {
				return 0, err
			}
			h.c, h.r = c, bufio.NewReaderSize(c, 32<<10)
		}
		status, keep, err := h.exchange(req)
		if err != nil {
			h.close()
			if reused && attempt == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
				continue
			}
			return 0, err
		}
		if !keep {
			h.close()
		}
		return status, nil
	}
}

func (h *httpConn) exchange(req []byte) (status int, keep bool, err error) {
	if _, err := h.c.Write(req); err != nil {
		return 0, false, err
	}
	line, err := h.line()
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	length, chunked, keep := -1, false, true
	for {
		line, err := h.line()
		if err != nil {
			return 0, false, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		for {
			line, err := h.line()
			if err != nil {
				return 0, false, err
			}
			size, _, _ := strings.Cut(string(line), ";")
			n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
			if err != nil {
				return 0, false, fmt.Errorf("bad chunk size %q", line)
			}
			if n == 0 {
				for { // trailers, up to the blank line
					if line, err = h.line(); err != nil || len(line) == 0 {
						return status, keep, err
					}
				}
			}
			if _, err := h.r.Discard(int(n) + 2); err != nil {
				return 0, false, err
			}
		}
	case length >= 0:
		_, err = h.r.Discard(length)
	case status == 204 || status == 304 || status/100 == 1:
	default:
		// No framing: the body runs to the end of the connection.
		_, err = io.Copy(io.Discard, h.r)
		keep = false
	}
	return status, keep, err
}

// line reads one CRLF-terminated line without its ending. A line longer than the buffer
// (a long Content-Security-Policy) is skipped to its end and returned cut: the client
// only looks at short headers.
func (h *httpConn) line() ([]byte, error) {
	line, err := h.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		first := bytes.Clone(line)
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = h.r.ReadSlice('\n')
		}
		line = first
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// processCPU is the user+system CPU time pid has used so far, from /proc/<pid>/stat
// (every thread of the process; in clock ticks of 10 ms on Linux).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after its ')' are fixed.
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return 0, errors.New("unreadable /proc stat")
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unreadable /proc stat times")
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on every Linux Go supports
	return time.Duration(utime+stime) * tick, nil
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
