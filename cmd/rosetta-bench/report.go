package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

type machine struct {
	cpu, mem, postgres, goVersion, commit string
	cores                                 int
	load                                  string
}

func machineInfo(ctx context.Context, raw *pgxpool.Pool) machine {
	m := machine{cpu: "unknown", mem: "unknown", postgres: "unknown", goVersion: runtime.Version(), commit: "unknown", cores: runtime.NumCPU()}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.cpu = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		var kb float64
		if _, err := fmt.Sscanf(v, "%f kB", &kb); err == nil {
			m.mem = fmt.Sprintf("%.1f GiB", kb/1024/1024)
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	_ = raw.QueryRow(ctx, "SHOW server_version").Scan(&m.postgres)
	if out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		m.commit = strings.TrimSpace(string(out))
		if out, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(out) > 0 {
			m.commit += " (with uncommitted changes)"
		}
	}
	return m
}

// procField is the value of the first "name : value" line of a /proc file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000) }

func cmpOr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mark(ok bool) string {
	if ok {
		return "pass"
	}
	return "**miss**"
}

func markRow(r row) string {
	if r.minRatio == 0 && r.maxP99 == 0 && r.pass == nil {
		if r.note != "" {
			return r.note
		}
		return "info"
	}
	return mark(r.ok())
}

// render is the table as Markdown (readable in a terminal too).
func render(m machine, o options, rows, foot []row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s · commit %s", time.Now().UTC().Format("2006-01-02 15:04 UTC"), m.commit)
	if o.label != "" {
		b.WriteString(" · " + o.label)
	}
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s memory, PostgreSQL %s (local, same machine), %s; load average at the end %s.\n",
		m.cpu, m.cores, m.mem, m.postgres, m.goVersion, m.load)
	fmt.Fprintf(&b, "Each figure: `rosetta serve` (CGO_ENABLED=0) as its own process, driven over keep-alive connections by a lean client (pre-built requests, minimal parsing), against the recorded SQL through pgxpool with as many workers, %s per side in %d alternating slices.\n\n", o.duration, rounds)
	b.WriteString("| request | conns | Rosetta req/s | p50 | p99 | server CPU/req | driver CPU/req | raw pgxpool /s | raw p50 | raw p99 | ratio | budget | |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		budget := "—"
		if r.minRatio > 0 {
			budget = fmt.Sprintf("≥ %.0f %%", r.minRatio*100)
		}
		if r.maxP99 > 0 {
			if r.minRatio > 0 {
				budget += ", "
			} else {
				budget = ""
			}
			budget += "p99 < " + ms(r.maxP99)
		}
		errs := ""
		if r.rosetta.errs+r.raw.errs > 0 {
			errs = fmt.Sprintf(" (%d errors, raw %d; first: %v)", r.rosetta.errs, r.raw.errs, cmpOr(r.rosetta.firstErr, r.raw.firstErr))
		}
		fmt.Fprintf(&b, "| %s | %d | %.0f | %s | %s | %s | %s | %.0f | %s | %s | %.2f | %s | %s%s |\n", r.what, r.rosetta.conns,
			r.rosetta.rate(), ms(r.rosetta.p50), ms(r.rosetta.p99), us(perRequest(r.rosetta.serverCPU, r.rosetta.n)),
			us(perRequest(r.rosetta.clientCPU, r.rosetta.n)), r.raw.rate(), ms(r.raw.p50), ms(r.raw.p99),
			r.ratio(), budget, markRow(r), errs)
	}
	fmt.Fprintf(&b, "\nThe console page is measured twice: at %d connections like the API rows, for its ratio, and at %d, an operator team's realistic concurrency, for its p99 budget (at 32 connections on 2 cores latency is concurrency ÷ throughput: raw's own p50 is tens of milliseconds there). Server CPU/req is the server process's CPU time (/proc, user+system) over its requests; driver CPU/req the load client's: the load-independent figures.\n", o.conns, consoleConns)
	b.WriteString("\nRaw side per row: ")
	var raws []string
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.rawWhat] {
			seen[r.rawWhat] = true
			raws = append(raws, fmt.Sprintf("%s — %s", r.what, r.rawWhat))
		}
	}
	b.WriteString(strings.Join(raws, "; ") + ".\n")
	if len(foot) > 0 {
		b.WriteString("\n| footprint | figure | budget | |\n|---|---|---|---|\n")
		for _, r := range foot {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.what, r.value, r.budget, mark(r.ok()))
		}
	}
	return b.String()
}

const (
	beginMarker = "<!-- rosetta-bench:begin (generated by `make bench`; edits inside are overwritten) -->"
	endMarker   = "<!-- rosetta-bench:end -->"
)

// writeMarkers replaces the text between the markers in path (appending the markers at
// the end when the file has none), leaving the rest of the file as it was.
func writeMarkers(path, table string) error {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	s := string(b)
	block := beginMarker + "\n" + table + endMarker
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	switch {
	case i >= 0 && j > i:
		s = s[:i] + block + s[j+len(endMarker):]
	case i < 0 && j < 0:
		if s != "" && !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		s += "\n" + block + "\n"
	default:
		return fmt.Errorf("%s: only one of the generated markers is there; fix the file by hand", path)
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
