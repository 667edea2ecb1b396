package esdb

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/treaty-engine/treaty/eventstore"
)

// Schemes this backend registers: a single node or a list of gossip seeds
// (esdb://), or a cluster found through DNS (esdb+discover://).
const (
	scheme         = "esdb"
	schemeDiscover = "esdb+discover"
)

// settings are the connection-string settings the v4 client understands
// (esdb/configuration.go, parseSetting), by the lower-case key it compares.
// The client only logs an unknown key and goes on, so a misspelt
// "tlsVerifyCerts=false" would silently connect with verification on; here
// it is refused instead.
var settings = map[string]string{
	"discoveryinterval":   "discoveryInterval",
	"gossiptimeout":       "gossipTimeout",
	"maxdiscoverattempts": "maxDiscoverAttempts",
	"nodepreference":      "nodePreference",
	"keepaliveinterval":   "keepAliveInterval",
	"keepalivetimeout":    "keepAliveTimeout",
	"tls":                 "tls",
	"tlscafile":           "tlsCAFile",
	"usercertfile":        "userCertFile",
	"userkeyfile":         "userKeyFile",
	"tlsverifycert":       "tlsVerifyCert",
	"defaultdeadline":     "defaultDeadline",
}

// uriForm is how an error shows the accepted forms.
const uriForm = "esdb://[user:password@]host[:port][?tls=false], esdb://host1:2113,host2:2113,… or esdb+discover://cluster.example.org"

// parseURI checks uri and returns the client's configuration for it, and the
// URI as errors may show it (password redacted).
func parseURI(uri string) (*esdb.Configuration, string, error) {
	shown, secrets := eventstore.RedactSecrets(uri)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("store URI %s: %s", shown, eventstore.Scrub(fmt.Sprintf(format, args...), secrets))
	}
	sch, rest, ok := strings.Cut(uri, "://")
	if !ok || (!strings.EqualFold(sch, scheme) && !strings.EqualFold(sch, schemeDiscover)) {
		return nil, shown, fail("not an EventStoreDB connection string: write it as %s", uriForm)
	}
	authority, query := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, query = rest[:i], rest[i:]
	}
	if host := authority[strings.LastIndexByte(authority, '@')+1:]; host == "" {
		return nil, shown, fail("no host: write it as %s", uriForm)
	}
	if _, q, ok := strings.Cut(query, "?"); ok {
		q, _, _ = strings.Cut(q, "#")
		values, err := url.ParseQuery(q)
		if err != nil {
			return nil, shown, fail("its settings do not parse (%v): write them as ?tls=false&tlsVerifyCert=false", err)
		}
		for key := range values {
			if _, known := settings[strings.ToLower(key)]; !known {
				names := make([]string, 0, len(settings))
				for _, n := range settings {
					names = append(names, n)
				}
				sort.Strings(names)
				return nil, shown, fail("unknown setting %q: check its spelling; the known settings are %s", key, strings.Join(names, ", "))
			}
		}
	}
	// The client compares the scheme as given; url.Parse lowers it, but a
	// connection string with gossip seeds takes another path.
	conf, err := esdb.ParseConnectionString(strings.ToLower(sch) + "://" + rest)
	if err != nil {
		return nil, shown, fail("%v: write it as %s", err, uriForm)
	}
	if err := conf.Validate(); err != nil {
		return nil, shown, fail("%v", err)
	}
	// The client logs to the standard logger by default (esdb/logging.go,
	// ConsoleLogging); its messages would garble a command's output, and
	// every failure it logs also comes back as an error.
	conf.Logger = func(esdb.LogLevel, string, ...any) {}
	return conf, shown, nil
}

// Redact returns uri with the password of its user information replaced by
// "xxxxx", fit for error messages and logs (see eventstore.Redact, which
// also reads connection strings net/url cannot parse, such as
// esdb://u:p@host1:2113,host2:2113).
func Redact(uri string) string { return eventstore.Redact(uri) }
