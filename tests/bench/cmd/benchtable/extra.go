package main

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// latency is one custom metric of the form <stat>-<subject>-ms, such as p99-replica-ms.
type latency struct {
	stat, subject string
	ms            float64
}

// latencies returns r's latency metrics; rows that have some get a table of their own.
func latencies(r row) []latency {
	var out []latency
	for _, m := range r.extra {
		s, ok := strings.CutSuffix(m.unit, "-ms")
		stat, subject, ok2 := strings.Cut(s, "-")
		if ok && ok2 && statRank(stat) >= 0 {
			out = append(out, latency{stat, subject, m.v})
		}
	}
	return out
}

// statRank orders statistics as columns: min, p0…p100, mean, max; -1 for anything else.
func statRank(stat string) int {
	switch stat {
	case "min":
		return 0
	case "mean":
		return 200
	case "max":
		return 300
	}
	if p, ok := strings.CutPrefix(stat, "p"); ok {
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 100 {
			return 1 + n
		}
	}
	return -1
}

// subjects names the subjects of BenchmarkRevocationPropagation's metrics, in table order.
var subjects = []struct{ key, label string }{
	{"replica", "replica B answers 401 (GET /v1/tokens/{id} in a tight loop)"},
	{"sdk", "SDK verifier on replica B's stream returns ErrRevoked"},
	{"delete", "the DELETE itself answers 204 (a floor for the rows above)"},
}

// printLatencies prints r's latency metrics as a table: one row per subject, one column per stat,
// under a heading with its other custom metrics and its ns/op. It prints nothing for other rows.
func printLatencies(r row) {
	ls := latencies(r)
	if len(ls) == 0 {
		return
	}
	var stats, subs []string
	values := map[[2]string]float64{}
	for _, l := range ls {
		if !slices.Contains(stats, l.stat) {
			stats = append(stats, l.stat)
		}
		if !slices.Contains(subs, l.subject) {
			subs = append(subs, l.subject)
		}
		values[[2]string{l.subject, l.stat}] = l.ms
	}
	slices.SortFunc(stats, func(a, b string) int { return cmp.Compare(statRank(a), statRank(b)) })
	order := func(s string) int {
		for i, k := range subjects {
			if k.key == s {
				return i
			}
		}
		return len(subjects)
	}
	slices.SortStableFunc(subs, func(a, b string) int { return cmp.Or(cmp.Compare(order(a), order(b)), strings.Compare(a, b)) })

	var notes []string
	for _, m := range r.extra {
		if !strings.HasSuffix(m.unit, "-ms") {
			notes = append(notes, fmt.Sprintf("%s %s", strconv.FormatFloat(m.v, 'f', -1, 64), m.unit))
		}
	}
	notes = append(notes, fmt.Sprintf("%.2f ms per iteration", r.ns/1e6))
	fmt.Printf("\n### %s (%s): %s\n\n", r.name, r.store, strings.Join(notes, ", "))
	first := "measured"
	if r.name == "RevocationPropagation" {
		first = "from sending DELETE /v1/tokens/{id} to replica A until"
	}
	fmt.Printf("| %s |", first)
	for _, s := range stats {
		fmt.Printf(" %s |", s)
	}
	fmt.Printf("\n|---|%s\n", strings.Repeat("--:|", len(stats)))
	for _, sub := range subs {
		label := sub
		if i := order(sub); i < len(subjects) && r.name == "RevocationPropagation" {
			label = subjects[i].label
		}
		fmt.Printf("| %s |", label)
		for _, s := range stats {
			if v, ok := values[[2]string{sub, s}]; ok {
				fmt.Printf(" %.2f ms |", v)
			} else {
				fmt.Print(" — |")
			}
		}
		fmt.Println()
	}
}

// printVerifier compares sdk/verify's Verify with the raw signature check per algorithm (issue 3's
// targets: distinct values within 1.15× of raw; a repeated value at least 20× faster than raw).
// Its rows are the fastest of runs runs of each benchmark.
func printVerifier(rows []row, runs int) {
	ns := map[string]float64{} // "RawSignature/ES256" → ns/op
	var algs []string
	for _, r := range rows {
		name, ok := strings.CutPrefix(r.name, "verify.")
		if !ok {
			continue
		}
		ns[name] = r.ns
		if alg, ok := strings.CutPrefix(name, "RawSignature/"); ok {
			algs = append(algs, alg)
		}
	}
	if len(algs) == 0 {
		return
	}
	fmt.Println("\n### sdk/verify against the raw signature check (targets: distinct ≤ 1.15× raw; raw ≥ 20× repeated)")
	fmt.Println()
	fmt.Println("| alg | raw signature | Verify, distinct values | distinct ÷ raw | Verify, repeated value | raw ÷ repeated |")
	fmt.Println("|---|--:|--:|--:|--:|--:|")
	ratio := func(a, b float64) string {
		if a == 0 || b == 0 {
			return "—"
		}
		if a/b >= 10 {
			return fmt.Sprintf("%.0f×", a/b)
		}
		return fmt.Sprintf("%.2f×", a/b)
	}
	nsCell := func(v float64) string {
		if v == 0 {
			return "—"
		}
		return group(int64(v+0.5)) + " ns"
	}
	for _, alg := range algs {
		raw, dist, rep := ns["RawSignature/"+alg], ns["VerifyDistinct/"+alg], ns["VerifyRepeated/"+alg]
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", alg, nsCell(raw), nsCell(dist), ratio(dist, raw),
			nsCell(rep), ratio(raw, rep))
	}
	fmt.Printf("\nThe verify.* rows are the fastest of %d runs of the package; ratios stay noisy on shared\n", runs)
	fmt.Println("machines (sdk/verify's README reports the median of 7 interleaved runs).")
}
