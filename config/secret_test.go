package config

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestPasswordFileMustBeRegular points mail.smtp.password_file at things
// that are not files. Each is refused with an error naming the field, the
// path and what it is; none may block (a FIFO without a writer would block
// open() forever, and the test with it).
func TestPasswordFileMustBeRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	regular := filepath.Join(dir, "pw")
	if err := os.WriteFile(regular, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, MaxSecretSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	fifoLink := filepath.Join(dir, "fifo-link")
	if err := os.Symlink(fifo, fifoLink); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"fifo", fifo, "it is a named pipe (FIFO), not a regular file"},
		{"symlink to a fifo", fifoLink, "it is a named pipe (FIFO), not a regular file"},
		{"directory", dir, "it is a directory, not a regular file"},
		{"character device", "/dev/null", "it is a device, not a regular file"},
		{"socket", sock, "it is a socket, not a regular file"},
		{"too large", big, "larger than"},
		{"missing", filepath.Join(dir, "nope"), "no such file or directory"},
		{"symlink to a regular file", link, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yml", []byte(minimal+"mail:\n  smtp: { host: h, password_file: \""+tc.path+"\" }\n"))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.Mail.SMTP.Password != "from-file" {
					t.Errorf("password = %q", c.Mail.SMTP.Password)
				}
				return
			}
			if err == nil {
				t.Fatal("config accepted")
			}
			prefix := "c.yml:7: mail.smtp.password_file: cannot read " + tc.path + ": "
			if !strings.Contains(err.Error(), prefix+tc.want) {
				t.Errorf("error\n%s\nwant it to contain\n%s", err, prefix+tc.want)
			}
		})
	}
}

// TestOpenRegularDoesNotBlock opens a FIFO that no process writes to, as
// happens when a password file is swapped for one between the check and
// the open: the open returns at once, refusing it.
func TestOpenRegularDoesNotBlock(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := openRegular(fifo)
	if err == nil {
		f.Close()
		t.Fatal("a FIFO was opened as a password file")
	}
	if !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("error = %v", err)
	}
}
