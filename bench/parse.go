package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LogFields finds the first line of a log/slog text log (key=value pairs,
// values with spaces or quotes written as Go-quoted strings) whose msg is
// msg, and returns its fields. ckpt -v logs its own phase timings that way,
// for example msg="checkpoint done" ... freeze=12.3ms total=40ms.
func LogFields(log []byte, msg string) (map[string]string, error) {
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields, err := parseLogLine(sc.Text())
		if err != nil {
			continue // not a structured line: a panic trace, say
		}
		if fields["msg"] == msg {
			return fields, nil
		}
	}
	return nil, fmt.Errorf("no log line with msg=%q", msg)
}

// parseLogLine splits one text-handler line into its key=value pairs.
func parseLogLine(line string) (map[string]string, error) {
	fields := map[string]string{}
	rest := strings.TrimSpace(line)
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 || strings.ContainsAny(rest[:eq], " \"") {
			return nil, fmt.Errorf("log line %q: no key at %q", line, rest)
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("log line %q: value of %s: %w", line, key, err)
			}
			if val, err = strconv.Unquote(q); err != nil {
				return nil, fmt.Errorf("log line %q: value of %s: %w", line, key, err)
			}
			rest = rest[len(q):]
		} else {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		fields[key] = val
		rest = strings.TrimLeft(rest, " ")
	}
	return fields, nil
}

// DurationField reads fields[key] as a Go duration ("1.5s", "850µs").
func DurationField(fields map[string]string, key string) (time.Duration, error) {
	v, ok := fields[key]
	if !ok {
		return 0, fmt.Errorf("log line has no %s field", key)
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("log field %s: %w", key, err)
	}
	return d, nil
}
