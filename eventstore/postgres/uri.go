package postgres

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/treaty-engine/treaty/eventstore"
)

// uriForm is how an error shows the accepted form.
const uriForm = "postgres://[user[:password]@]host[:port][,host2…]/database[?sslmode=…&search_path=…]"

// parseURI reads uri as libpq does (through pgx) and returns the pool's
// configuration for it, the URI as messages may show it, and the secrets
// to scrub from the driver's errors. readOnly makes every session
// read-only on the server too.
func parseURI(uri string, readOnly bool) (*pgxpool.Config, string, []string, error) {
	shown, secrets := eventstore.RedactSecrets(uri)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("store URI %s: %s", shown, eventstore.Scrub(fmt.Sprintf(format, args...), secrets))
	}
	sch, rest, ok := strings.Cut(uri, "://")
	if !ok || (!strings.EqualFold(sch, scheme) && !strings.EqualFold(sch, schemeLong)) {
		return nil, shown, secrets, fail("not a PostgreSQL connection URI: write it as %s", uriForm)
	}
	// pgx recognises a URI by its scheme in lower case.
	pc, err := pgxpool.ParseConfig(strings.ToLower(sch) + "://" + rest)
	if err != nil {
		return nil, shown, secrets, fail("%v: write it as %s", err, uriForm)
	}
	var query url.Values
	if _, q, ok := strings.Cut(rest, "?"); ok {
		q, _, _ = strings.Cut(q, "#")
		query, _ = url.ParseQuery(q) // pgx has parsed it already
	}
	if !query.Has("pool_max_conns") {
		pc.MaxConns = defaultConn
	}
	params := pc.ConnConfig.RuntimeParams
	if _, ok := params["application_name"]; !ok {
		params["application_name"] = "treaty"
	}
	if readOnly {
		params["default_transaction_read_only"] = "on"
	}
	return pc, shown, secrets, nil
}
