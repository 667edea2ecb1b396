package main

// Benchmarks of the web workspace on the benchmark fixture (see
// benchFixture): `treaty serve` runs as its own process, as in use; the
// benchmark is the browser, on loopback.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// served is `treaty serve` on the fixture, as its own process.
type served struct {
	base string
	cmd  *exec.Cmd
}

var servingAt = regexp.MustCompile(`at (http://[^/ ]+)/`)

func serveFixture(b *testing.B) *served {
	b.Helper()
	bin, store, _ := benchFixture(b)
	cmd := exec.Command(bin, "--store", store, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = benchEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &served{cmd: cmd}
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := servingAt.FindStringSubmatch(sc.Text()); m != nil {
			s.base = m[1]
			break
		}
	}
	if s.base == "" {
		b.Fatal("treaty serve did not say where it serves")
	}
	go io.Copy(io.Discard, stderr)
	return s
}

// rss is the serving process's resident memory, in MiB.
func (s *served) rss() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}

// fetch gets a page and returns the server's time for it (Server-Timing)
// and the whole round trip.
func (s *served) fetch(b *testing.B, path string) (server, total time.Duration) {
	start := time.Now()
	res, err := benchClient.Get(s.base + path)
	if err != nil {
		b.Error(err)
		return 0, 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	total = time.Since(start)
	if res.StatusCode != 200 {
		b.Errorf("%s: %s", path, res.Status)
	}
	if _, dur, ok := strings.Cut(res.Header.Get("Server-Timing"), "dur="); ok {
		ms, _ := strconv.ParseFloat(dur, 64)
		server = time.Duration(ms * float64(time.Millisecond))
	}
	return server, total
}

func treatyPath(path string) string { return "/t/simulation" + path }

// BenchmarkServeCompare: a compare page, worked out (a question not asked
// before; the moments it compares are read once and kept), and kept (asked
// again at the same head). Reports the server's time (Server-Timing).
func BenchmarkServeCompare(b *testing.B) {
	s := serveFixture(b)
	_, _, rounds := benchFixture(b)
	for _, c := range []struct{ name, path string }{
		{"round", fmt.Sprintf("/compare?from=round:%d:start&to=round:%d", rounds, rounds)},
		{"round-whole", fmt.Sprintf("/compare?from=round:%d:start&to=round:%d&whole=1", rounds, rounds)},
		{"history", fmt.Sprintf("/compare?from=round:1&to=round:%d", rounds)},
		{"default", "/compare"},
	} {
		s.fetch(b, treatyPath(c.path)) // the moments read once
		b.Run(c.name+"/worked-out", func(b *testing.B) {
			var server time.Duration
			i := 0
			for b.Loop() {
				i++
				sep := "?"
				if strings.Contains(c.path, "?") {
					sep = "&"
				}
				d, _ := s.fetch(b, treatyPath(fmt.Sprintf("%s%sn=%d", c.path, sep, i)))
				server += d
			}
			b.ReportMetric(float64(server.Microseconds())/1000/float64(i), "server-ms")
		})
		b.Run(c.name+"/kept", func(b *testing.B) {
			var server time.Duration
			i := 0
			for b.Loop() {
				i++
				d, _ := s.fetch(b, treatyPath(c.path))
				server += d
			}
			b.ReportMetric(float64(server.Microseconds())/1000/float64(i), "server-ms")
		})
	}
}

// sseClient follows a negotiation's event stream and counts the events.
type sseClient struct {
	events atomic.Int64
	last   atomic.Int64
	seen   chan int // event numbers, when wanted
	err    atomic.Value
}

func (s *served) follow(ctx context.Context, c *sseClient, client *http.Client) {
	req, _ := http.NewRequestWithContext(ctx, "GET", s.base+treatyPath("/events"), nil)
	res, err := client.Do(req)
	if err != nil {
		c.err.Store(err.Error())
		return
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
			n, _ := strconv.Atoi(id)
			c.events.Add(1)
			c.last.Store(int64(n))
			if c.seen != nil {
				c.seen <- n
			}
		}
	}
	if ctx.Err() == nil {
		c.err.Store(fmt.Sprintf("the stream ended: %v", sc.Err()))
	}
}

// BenchmarkServeLiveUpdate: how long after another process appends an event
// an open event stream carries it (the SQLite store is polled every
// 200 ms; a KurrentDB server pushes).
func BenchmarkServeLiveUpdate(b *testing.B) {
	s := serveFixture(b)
	bin, store, _ := benchFixture(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &sseClient{seen: make(chan int, 16)}
	go s.follow(ctx, c, &http.Client{})
	time.Sleep(500 * time.Millisecond)
	var worst, total time.Duration
	i := 0
	for b.Loop() {
		i++
		b.StopTimer()
		cmd := exec.Command(bin, "--store", store, "--as", "UA", "propose", "--clause", fmt.Sprintf("live-%d-%d", time.Now().UnixNano(), i), "--text", "Live.")
		cmd.Env = benchEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("propose: %v\n%s", err, out)
		}
		appended := time.Now()
		b.StartTimer()
		select {
		case <-c.seen:
		case <-time.After(10 * time.Second):
			b.Fatal("no event within 10 s")
		}
		d := time.Since(appended)
		total += d
		worst = max(worst, d)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(i), "ms-to-stream")
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}

// BenchmarkServeLoad: a round watched from many capitals. 200 open event
// streams and 50 compare or draft pages a second, for TREATY_BENCH_LOAD
// (default 60s), while another process appends an event every 2 seconds:
// the latency of the pages (p50, p99, the worst), whether every stream got
// every event, and the serving process's resident memory 10 s in and at the
// end. Run it with -benchtime=1x.
func BenchmarkServeLoad(b *testing.B) {
	length := time.Minute
	if v := os.Getenv("TREATY_BENCH_LOAD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("TREATY_BENCH_LOAD=%q: %v", v, err)
		}
		length = d
	}
	s := serveFixture(b)
	bin, store, rounds := benchFixture(b)
	pages := []string{
		"/draft",
		"/compare",
		fmt.Sprintf("/compare?from=round:%d:start&to=round:%d", rounds, rounds),
		fmt.Sprintf("/compare?from=round:%d&to=head&view=side", rounds-1),
		fmt.Sprintf("/draft?at=round:%d", rounds-1),
	}
	for _, p := range pages {
		s.fetch(b, treatyPath(p))
	}
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		streams := make([]*sseClient, 200)
		streamClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
		for i := range streams {
			streams[i] = &sseClient{}
			go s.follow(ctx, streams[i], streamClient)
		}
		time.Sleep(time.Second)
		var (
			mu        sync.Mutex
			latencies []time.Duration
			wg        sync.WaitGroup
			appended  atomic.Int64
		)
		// The appends: a process every 2 s.
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(2 * time.Second)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				cmd := exec.Command(bin, "--store", store, "--as", "UA", "propose", "--clause", fmt.Sprintf("load-%d-%d", time.Now().UnixNano(), i), "--text", "Under load.")
				cmd.Env = benchEnv()
				if err := cmd.Run(); err == nil {
					appended.Add(1)
				}
			}
		}()
		start := time.Now()
		var rssEarly float64
		tick := time.NewTicker(20 * time.Millisecond)
		for n := 0; time.Since(start) < length; n++ {
			<-tick.C
			if rssEarly == 0 && time.Since(start) > 10*time.Second {
				rssEarly = s.rss()
			}
			wg.Add(1)
			go func(p string) {
				defer wg.Done()
				_, total := s.fetch(b, treatyPath(p))
				mu.Lock()
				latencies = append(latencies, total)
				mu.Unlock()
			}(pages[n%len(pages)])
		}
		tick.Stop()
		rssEnd := s.rss()
		// Let the last event reach the streams.
		time.Sleep(time.Second)
		cancel()
		wg.Wait()
		slices.Sort(latencies)
		pct := func(p float64) float64 {
			return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
		}
		dropped := 0
		for _, c := range streams {
			if c.events.Load() != appended.Load() {
				dropped++
				if e := c.err.Load(); e != nil {
					b.Logf("a stream: %v (%d of %d events)", e, c.events.Load(), appended.Load())
				}
			}
		}
		b.ReportMetric(float64(len(latencies))/length.Seconds(), "pages/s")
		b.ReportMetric(pct(0.5), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(float64(latencies[len(latencies)-1].Microseconds())/1000, "max-ms")
		b.ReportMetric(float64(appended.Load()), "events")
		b.ReportMetric(float64(dropped), "streams-short")
		b.ReportMetric(rssEarly, "rss-MiB-at-10s")
		b.ReportMetric(rssEnd, "rss-MiB-at-end")
		if dropped > 0 {
			b.Errorf("%d of %d streams missed events", dropped, len(streams))
		}
	}
}
