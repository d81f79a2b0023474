package daemon

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// emlMail is one .eml file the file deliverer wrote, decoded.
type emlMail struct {
	File, To, Subject, Text string
}

// readMails decodes every finished .eml file in dir: recipient, subject and the
// text part (quoted-printable undone, so links are whole).
func readMails(t *testing.T, dir string) []emlMail {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	var out []emlMail
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), ".") {
			continue // a mail still being written (renamed into place when done)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		to, err := mail.ParseAddress(m.Header.Get("To"))
		if err != nil {
			t.Fatalf("%s: To: %v", f, err)
		}
		e := emlMail{File: f, To: to.Address, Subject: subj}
		mt, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(m.Body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					break
				}
				var r io.Reader = p
				if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
					r = quotedprintable.NewReader(p)
				}
				body, _ := io.ReadAll(r)
				if ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct == "text/plain" {
					e.Text += string(body)
				}
			}
		} else {
			body, _ := io.ReadAll(m.Body)
			e.Text = string(body)
		}
		out = append(out, e)
	}
	return out
}
