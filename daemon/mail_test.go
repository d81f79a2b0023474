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
		e.Text = textPart(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
		out = append(out, e)
	}
	return out
}

// textPart returns the text/plain body of a message or part, looking inside
// multipart/mixed and multipart/alternative and leaving attachments out.
func textPart(contentType, encoding string, body io.Reader) string {
	mt, params, _ := mime.ParseMediaType(contentType)
	if strings.HasPrefix(mt, "multipart/") {
		var out string
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return out
			}
			if strings.HasPrefix(p.Header.Get("Content-Disposition"), "attachment") {
				continue
			}
			out += textPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
		}
	}
	if mt != "" && mt != "text/plain" {
		return ""
	}
	r := body
	if strings.EqualFold(encoding, "quoted-printable") {
		r = quotedprintable.NewReader(body)
	}
	b, _ := io.ReadAll(r)
	return string(b)
}
