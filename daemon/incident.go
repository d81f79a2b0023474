package daemon

import (
	"context"
	"encoding/csv"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/schoolwatch/schoolwatch/store"
)

// incidentWeb serves the action links (/act, no basic auth: the token is
// the credential) and the incident log (/alerts, /alerts.csv, behind the
// web config's basic auth).
type incidentWeb struct {
	store *store.Store
	// links returns the current generation's linker and time zone; nil
	// before the first generation runs.
	links   func() (*linker, *time.Location)
	limiter *rateLimiter
	log     *slog.Logger
	metrics *prometheus.CounterVec // schoolwatch_alert_actions_total; nil counts nothing
	now     func() time.Time
	// plan is the running generation's plan (for /report); nil before it.
	plan func() *Plan
	// reportFn is Report; tests may replace it.
	reportFn func(ctx context.Context, p *Plan, r ReportedPost) (ReportResult, error)
}

func (iw *incidentWeb) count(action, result string) {
	if iw.metrics != nil {
		iw.metrics.WithLabelValues(action, result).Inc()
	}
}

func (iw *incidentWeb) clock() time.Time {
	if iw.now != nil {
		return iw.now()
	}
	return time.Now()
}

const pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><meta name="referrer" content="no-referrer"><title>{{ .Title }}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:48rem;margin:0 auto;padding:1rem;line-height:1.45;color:#1b1b1b;background:#fff}
a{color:#0b57d0;overflow-wrap:anywhere}.muted{color:#555}.card{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;margin:.8rem 0}
button{font-size:1rem;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #0b57d0;background:#0b57d0;color:#fff}
textarea{width:100%;box-sizing:border-box;font:inherit}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem;border-bottom:1px solid #ddd;vertical-align:top}
.st{font-weight:bold}@media (max-width:480px){table,tr,td,th{display:block}th{display:none}td{border:0;padding:.1rem}tr{border-bottom:1px solid #ddd;padding:.4rem 0}}
@media (prefers-color-scheme:dark){body{background:#121212;color:#e6e6e6}a{color:#8ab4f8}.muted{color:#aaa}.card,td,th,tr{border-color:#444}button{background:#8ab4f8;color:#121212;border-color:#8ab4f8}textarea{background:#1e1e1e;color:#e6e6e6}}
</style></head><body>`

var actTmpl = template.Must(template.New("act").Parse(pageHead + `
<h1>{{ .Label }}</h1>
<div class="card">
<p class="muted">{{ .Incident.SchoolName }} · {{ .Incident.Severity }} · {{ .Incident.Category }}</p>
<p><strong>{{ .Incident.Title }}</strong></p>
{{ if .Link }}<p><a href="{{ .Link }}" rel="noopener noreferrer">{{ .Link }}</a></p>{{ end }}
<p class="muted">Status: <span class="st">{{ .Incident.Status }}</span>{{ if .Incident.ActedBy }} ({{ .Incident.ActedBy }}, {{ .ActedAt }}){{ end }}</p>
</div>
{{ if .Done }}<p>Recorded: <strong>{{ .Incident.Status }}</strong>. Thank you.</p>
{{ else }}<form method="post" action="{{ .Action }}">
<input type="hidden" name="t" value="{{ .Token }}">
<input type="hidden" name="csrf" value="{{ .CSRF }}">
<p><label for="note">Note (optional)</label><br><textarea id="note" name="note" rows="3" maxlength="2000"></textarea></p>
<p><button type="submit">{{ .Label }}</button></p>
</form>
<p class="muted">Nothing is recorded until you press the button.</p>{{ end }}
</body></html>
`))

var logTmpl = template.Must(template.New("log").Parse(pageHead + `
<h1>Recent alerts</h1>
<p class="muted">The last {{ .Days }} days. <a href="alerts.csv">Download as CSV</a> · <a href="report">Report a post</a></p>
{{ range .Schools }}<h2>{{ .Name }}</h2>
<table><tr><th>Time</th><th>Post</th><th>Findings</th><th>Status</th></tr>
{{ range .Rows }}<tr><td>{{ .Time }}</td><td>{{ if .Link }}<a href="{{ .Link }}" rel="noopener noreferrer">{{ .Title }}</a>{{ else }}{{ .Title }}{{ end }}</td><td>{{ .Severity }} · {{ .Findings }}</td>
<td><span class="st">{{ .Status }}</span>{{ if .ActedBy }}<br>by {{ .ActedBy }} at {{ .ActedAtStr }}{{ end }}{{ if .Note }}<br>“{{ .Note }}”{{ end }}</td></tr>
{{ end }}</table>
{{ else }}<p>No alerts yet.</p>{{ end }}
</body></html>
`))

// plain writes a plain-text error page.
func plain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}

func secureHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
}

// act serves /act: GET shows the alert and a form, and changes nothing;
// POST checks the form's CSRF token and records the action.
func (iw *incidentWeb) act(w http.ResponseWriter, r *http.Request) {
	if !iw.limiter.allow(remoteHost(r), iw.clock()) {
		iw.count("unknown", "limited")
		plain(w, http.StatusTooManyRequests, "Too many requests; try again in a minute.")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, HEAD, POST")
		plain(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	l, loc := iw.links()
	if l == nil {
		plain(w, http.StatusServiceUnavailable, "Starting; try again in a minute.")
		return
	}
	var tok string
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			plain(w, http.StatusBadRequest, "Bad form.")
			return
		}
		tok = r.PostForm.Get("t")
	} else {
		tok = r.URL.Query().Get("t")
	}
	now := iw.clock()
	c, err := l.verify(tok, now)
	if err != nil {
		iw.count("unknown", "refused")
		plain(w, http.StatusForbidden, "Forbidden: "+err.Error()+". Use the links in your latest schoolwatch mail.")
		return
	}
	inc, err := iw.store.IncidentFor(r.Context(), c.School, c.Item, c.Recipient)
	if errors.Is(err, store.ErrNoIncident) {
		plain(w, http.StatusNotFound, "This alert is no longer kept.")
		return
	} else if err != nil {
		iw.log.Error("action link", "err", err)
		plain(w, http.StatusInternalServerError, "Something went wrong; try again later.")
		return
	}
	done := false
	if r.Method == http.MethodPost {
		if !l.checkCSRF(tok, r.PostForm.Get("csrf")) {
			iw.count(c.Action, "refused")
			plain(w, http.StatusForbidden, "Forbidden: the form has expired. Open the link from your mail again.")
			return
		}
		note := strings.TrimSpace(r.PostForm.Get("note"))
		if r := []rune(note); len(r) > 2000 {
			note = string(r[:2000])
		}
		status := map[string]string{actAcknowledge: store.StatusAcknowledged, actNotRelevant: store.StatusNotRelevant, actMute: store.StatusMuted}[c.Action]
		if err := iw.store.ActOnIncident(r.Context(), now, c.School, c.Item, c.Recipient, status, note, now.Add(l.muteFor)); err != nil {
			iw.log.Error("action link", "err", err)
			plain(w, http.StatusInternalServerError, "Something went wrong; try again later.")
			return
		}
		iw.log.Info("alert action recorded", "school", c.School, "item", c.Item, "status", status)
		iw.count(c.Action, "recorded")
		if inc, err = iw.store.IncidentFor(r.Context(), c.School, c.Item, c.Recipient); err != nil {
			plain(w, http.StatusInternalServerError, "Something went wrong; try again later.")
			return
		}
		done = true
	} else {
		iw.count(c.Action, "shown")
	}
	secureHeaders(w)
	acted := ""
	if !inc.ActedAt.IsZero() {
		acted = inc.ActedAt.In(loc).Format("Mon 2 Jan 15:04")
	}
	actTmpl.Execute(w, map[string]any{
		"Title": actionLabel(c.Action, l.muteFor) + " · schoolwatch", "Label": actionLabel(c.Action, l.muteFor),
		"Incident": inc, "Link": safeHTTPLink(inc.Link), "ActedAt": acted, "Done": done,
		"Action": "act", "Token": tok, "CSRF": l.csrf(tok),
	})
}

// safeHTTPLink keeps only http(s) links.
func safeHTTPLink(s string) string {
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		return s
	}
	return ""
}

// logRow is one post's line in the incident log: its alerts to every
// recipient, with the latest action any of them took.
type logRow struct {
	store.Incident
	Recipients []string
	Time       string
	ActedAtStr string
}

// incidentLog merges the per-recipient alerts into one row per school and
// post: its status is the latest action taken on it, by whoever took it.
func incidentLog(in []store.Incident) []logRow {
	idx := map[string]int{}
	var out []logRow
	for _, i := range in {
		k := i.SchoolID + "\x00" + i.ItemKey
		n, ok := idx[k]
		if !ok {
			idx[k] = len(out)
			out = append(out, logRow{Incident: i, Recipients: []string{i.Recipient}})
			continue
		}
		row := &out[n]
		row.Recipients = append(row.Recipients, i.Recipient)
		if i.Created.Before(row.Created) {
			row.Created = i.Created
		}
		if i.ActedAt.After(row.ActedAt) {
			created := row.Created
			recips := row.Recipients
			row.Incident = i
			row.Created, row.Recipients = created, recips
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Created.After(out[b].Created) })
	return out
}

// CSVHeader is the incident log's CSV columns.
var CSVHeader = []string{"time", "school", "school_id", "category", "severity", "findings", "title", "post link", "status", "acknowledged_by", "acknowledged_at", "note", "recipients", "item_key"}

// cell defuses a spreadsheet formula in hostile text.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteIncidentCSV writes the incident log since since as CSV.
func WriteIncidentCSV(ctx context.Context, w io.Writer, st *store.Store, since time.Time, loc *time.Location) error {
	in, err := st.Incidents(ctx, since, 0)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader)
	for _, r := range incidentLog(in) {
		acted := ""
		if !r.ActedAt.IsZero() {
			acted = r.ActedAt.In(loc).Format(time.RFC3339)
		}
		cw.Write([]string{r.Created.In(loc).Format(time.RFC3339), cell(r.SchoolName), cell(r.SchoolID), r.Category, r.Severity, r.Findings,
			cell(r.Title), cell(r.Link), r.Status, cell(r.ActedBy), acted, cell(r.Note), cell(strings.Join(r.Recipients, " ")), cell(r.ItemKey)})
	}
	cw.Flush()
	return cw.Error()
}

const logDays = 30

func (iw *incidentWeb) alertsCSV(w http.ResponseWriter, r *http.Request) {
	_, loc := iw.links()
	if loc == nil {
		loc = time.UTC
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="schoolwatch-alerts.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := WriteIncidentCSV(r.Context(), w, iw.store, iw.clock().Add(-logDays*24*time.Hour), loc); err != nil {
		iw.log.Error("alerts.csv", "err", err)
	}
}

func (iw *incidentWeb) alertsPage(w http.ResponseWriter, r *http.Request) {
	_, loc := iw.links()
	if loc == nil {
		loc = time.UTC
	}
	in, err := iw.store.Incidents(r.Context(), iw.clock().Add(-logDays*24*time.Hour), 2000)
	if err != nil {
		iw.log.Error("alerts page", "err", err)
		plain(w, http.StatusInternalServerError, "Something went wrong; try again later.")
		return
	}
	type school struct {
		Name string
		Rows []logRow
	}
	var schools []*school
	byID := map[string]*school{}
	for _, row := range incidentLog(in) {
		row.Time = row.Created.In(loc).Format("Mon 2 Jan 15:04")
		if !row.ActedAt.IsZero() {
			row.ActedAtStr = row.ActedAt.In(loc).Format("Mon 2 Jan 15:04")
		}
		row.Link = safeHTTPLink(row.Link)
		s := byID[row.SchoolID]
		if s == nil {
			s = &school{Name: row.SchoolName}
			byID[row.SchoolID] = s
			schools = append(schools, s)
		}
		s.Rows = append(s.Rows, row)
	}
	secureHeaders(w)
	logTmpl.Execute(w, map[string]any{"Title": "Recent alerts · schoolwatch", "Days": logDays, "Schools": schools})
}

// remoteHost is the client's address without its port.
func remoteHost(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// rateLimiter is a token bucket per remote address.
type rateLimiter struct {
	mu      sync.Mutex
	burst   float64
	perSec  float64
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(burst int, perSec float64) *rateLimiter {
	return &rateLimiter{burst: float64(burst), perSec: perSec, buckets: map[string]*bucket{}}
}

func (rl *rateLimiter) allow(addr string, now time.Time) bool {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	b := rl.buckets[addr]
	if b == nil {
		if len(rl.buckets) >= 10000 {
			// Forget the full ones: they are as good as new.
			for k, v := range rl.buckets {
				if v.tokens+now.Sub(v.last).Seconds()*rl.perSec >= rl.burst {
					delete(rl.buckets, k)
				}
			}
		}
		b = &bucket{tokens: rl.burst, last: now}
		rl.buckets[addr] = b
	}
	b.tokens = min(rl.burst, b.tokens+now.Sub(b.last).Seconds()*rl.perSec)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
