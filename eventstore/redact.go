package eventstore

import (
	"net/url"
	"strings"
)

// redacted stands for a hidden secret.
const redacted = "xxxxx"

// secretSettings are the query settings of a store URI whose values are
// secrets, by lower-case name: libpq's password and sslpassword.
var secretSettings = map[string]bool{"password": true, "sslpassword": true}

// Redact returns uri fit for messages and logs: the password of its user
// information (scheme://user:password@host) and the values of its password
// settings (?password=…, ?sslpassword=…) replaced by "xxxxx". It works on
// URIs net/url cannot parse, such as esdb://u:p@host1:2113,host2:2113 or
// postgres://u:p@h1,h2/db, and returns anything else as it is: a file path
// has no secret.
func Redact(uri string) string {
	shown, _ := RedactSecrets(uri)
	return shown
}

// RedactSecrets is Redact, also returning the secrets it hid, each as
// written and percent-decoded, so that a backend can scrub them from a
// client library's error messages too.
func RedactSecrets(uri string) (shown string, secrets []string) {
	sch, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return uri, nil
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	hide := func(s string) {
		if s == "" {
			return
		}
		secrets = append(secrets, s)
		if p, err := url.PathUnescape(s); err == nil && p != s && p != "" {
			secrets = append(secrets, p)
		}
	}
	// The last @ ends the user information: a password with an unescaped
	// @ is hidden whole.
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		if user, pw, hasPW := strings.Cut(authority[:at], ":"); hasPW && pw != "" {
			hide(pw)
			authority = user + ":" + redacted + authority[at:]
		}
	}
	path, query, hasQuery := strings.Cut(tail, "?")
	if hasQuery {
		query, fragment, hasFragment := strings.Cut(query, "#")
		pairs := strings.Split(query, "&")
		for i, pair := range pairs {
			key, value, hasValue := strings.Cut(pair, "=")
			name, err := url.QueryUnescape(key)
			if err != nil {
				name = key
			}
			if hasValue && value != "" && secretSettings[strings.ToLower(name)] {
				hide(value)
				pairs[i] = key + "=" + redacted
			}
		}
		tail = path + "?" + strings.Join(pairs, "&")
		if hasFragment {
			tail += "#" + fragment
		}
	}
	return sch + "://" + authority + tail, secrets
}

// Scrub replaces every secret in msg by "xxxxx".
func Scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, redacted)
	}
	return msg
}
