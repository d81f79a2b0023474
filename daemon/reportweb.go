package daemon

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/schoolwatch/schoolwatch/rules"
)

// reportFormTTL is how long a "report a post" form may be submitted after
// it was served.
const reportFormTTL = 2 * time.Hour

var reportTmpl = template.Must(template.New("report").Parse(pageHead + `
<h1>Report a post</h1>
{{ if .Done }}<div class="card"><p><strong>{{ .Done }}</strong></p></div>{{ end }}
{{ if .Err }}<div class="card"><p><strong>Not reported:</strong> {{ .Err }}</p></div>{{ end }}
<p class="muted">For a post seen where schoolwatch cannot look (a closed group, a screenshot): it is matched and mailed to the school's leaders, as <code>schoolwatch report</code> does.</p>
<form method="post" action="report">
<input type="hidden" name="csrf" value="{{ .CSRF }}">
<p><label for="school">School</label><br><select id="school" name="school" required>{{ range .Schools }}<option value="{{ .ID }}">{{ .Name }}</option>{{ end }}</select></p>
<p><label for="text">The post's text</label><br><textarea id="text" name="text" rows="6" required maxlength="20000"></textarea></p>
<p><label for="url">Its address (optional)</label><br><input id="url" name="url" type="url" style="width:100%;box-sizing:border-box"></p>
<p><label for="where">Where (platform, optional)</label><br><input id="where" name="where" style="width:100%;box-sizing:border-box"></p>
<p><label for="author">Posted by (optional)</label><br><input id="author" name="author" style="width:100%;box-sizing:border-box"></p>
<p><label for="category">Category if no rule matches (optional)</label><br><select id="category" name="category"><option value="">(first steps, to the head)</option>{{ range .Categories }}<option>{{ . }}</option>{{ end }}</select></p>
<p><button type="submit">Report</button></p>
</form>
</body></html>
`))

// reportCSRF is a form token: its expiry and an HMAC over it.
func (l *linker) reportCSRF(now time.Time) string {
	exp := strconv.FormatInt(now.Add(reportFormTTL).Unix(), 10)
	return exp + "." + strings.TrimRight(l.csrf("report-form\x00"+exp), "=")
}

func (l *linker) checkReportCSRF(tok string, now time.Time) bool {
	exp, _, ok := strings.Cut(tok, ".")
	n, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || now.Unix() >= n {
		return false
	}
	return l.checkCSRF("report-form\x00"+exp, strings.TrimPrefix(tok, exp+"."))
}

// sameOrigin refuses a POST whose Origin header names another site.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true // not a browser's cross-site form; the CSRF token still applies
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// report serves /report: the form (GET) and Report (POST).
func (iw *incidentWeb) report(w http.ResponseWriter, r *http.Request) {
	l, _ := iw.links()
	p := iw.plan()
	if l == nil || p == nil {
		plain(w, http.StatusServiceUnavailable, "Starting; try again in a minute.")
		return
	}
	now := iw.clock()
	data := map[string]any{"Title": "Report a post · schoolwatch", "Schools": p.Config.Schools, "Categories": rules.Categories}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		if !iw.limiter.allow(remoteHost(r), now) {
			plain(w, http.StatusTooManyRequests, "Too many requests; try again in a minute.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			plain(w, http.StatusBadRequest, "Bad form.")
			return
		}
		if !sameOrigin(r) || !l.checkReportCSRF(r.PostForm.Get("csrf"), now) {
			plain(w, http.StatusForbidden, "Forbidden: the form has expired or came from another site. Open /report again.")
			return
		}
		res, err := iw.reportFn(r.Context(), p, ReportedPost{
			School: r.PostForm.Get("school"), Text: r.PostForm.Get("text"), URL: strings.TrimSpace(r.PostForm.Get("url")),
			Author: r.PostForm.Get("author"), Where: r.PostForm.Get("where"), Category: r.PostForm.Get("category"), Logger: iw.log,
		})
		switch {
		case err != nil && !errors.Is(err, r.Context().Err()):
			data["Err"] = err.Error()
		case err != nil:
			return
		case res.Duplicate:
			data["Done"] = "This post was already reported for this school; nothing was mailed again."
		default:
			data["Done"] = "Reported: " + strconv.Itoa(len(res.Findings)) + " finding(s); the school's leaders are mailed."
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		plain(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	data["CSRF"] = l.reportCSRF(now)
	secureHeaders(w)
	reportTmpl.Execute(w, data)
}
