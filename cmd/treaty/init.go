package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/cmd/treaty/internal/write"
	"github.com/treaty-engine/treaty/domain"
	"github.com/treaty-engine/treaty/eventstore"
)

func (a *app) initCommand() *cobra.Command {
	var title string
	var parties, observers, pins []string
	c := &cobra.Command{
		Use:   "init --treaty ID --title T --party CODE[=NAME]... [--observer CODE[=NAME]]...",
		Short: "Open a negotiation",
		Long: `Open a negotiation with its parties and observers.

Every party must accept a proposal for it to be adopted. Observers (a
mediator, say) may table and withdraw proposals, but take no position on them
and their acceptance is not required.

--key CODE=KEY pins a participant's public signing key (made with keys
generate; compare its fingerprint with the delegation out of band first): it
is in effect from the opening, and every act of the participant must be signed
with it. When the acting party (--as) has a pinned key, the opening itself is
signed with it, and this machine must hold it.`,
		Example: `  treaty init --treaty berlin-framework --title "Berlin Framework on Security Assurances" \
    --party UA=Ukraine --party "US=United States" --party "EU=European Union" --observer DE=Germany
  treaty --treaty berlin --as UA keys generate     # prints UA's public key
  treaty --treaty berlin --as UA init --title "Berlin Framework" --party UA --party US --key UA=MCow…`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case a.treaty == "":
				return usagef("init needs the new negotiation's ID: --treaty ID (or TREATY)")
			case strings.TrimSpace(title) == "":
				return usagef("init needs the negotiation's title: --title T")
			case len(parties) == 0:
				return usagef("init needs at least one party: --party CODE=NAME (repeat for each)")
			}
			var ps []domain.Party
			for _, spec := range parties {
				ps = append(ps, parseParty(spec, domain.RoleParty))
			}
			for _, spec := range observers {
				ps = append(ps, parseParty(spec, domain.RoleObserver))
			}
			for _, p := range ps {
				if err := domain.CheckSlug("party code", p.Code); err != nil {
					return &usageError{fmt.Errorf("--%s %s: %w", p.Role, p.Code, err)}
				}
			}
			if a.as != "" && !slices.ContainsFunc(ps, func(p domain.Party) bool { return p.Code == a.as }) {
				return fmt.Errorf("--as %s is not among the parties and observers of the new negotiation", a.as)
			}
			// Decided before the store is opened: a refused opening
			// leaves no store file behind.
			w := a.batchWriter()
			b := w.NewBatch(a.treaty)
			keys := map[string]string{}
			for _, spec := range pins {
				code, key, ok := strings.Cut(spec, "=")
				if !ok || strings.TrimSpace(key) == "" {
					return usagef("--key %q: give CODE=PUBLIC-KEY, the public key as keys generate printed it", spec)
				}
				if _, dup := keys[code]; dup {
					return usagef("--key: %s is pinned twice", code)
				}
				keys[strings.TrimSpace(code)] = strings.TrimSpace(key)
			}
			if len(keys) == 0 {
				keys = nil
			}
			open := domain.OpenTreaty{Treaty: a.treaty, Title: strings.TrimSpace(title), Parties: ps, Keys: keys}
			evs, err := b.Do(write.Act{Party: a.as, Author: a.author, Command: func(*domain.State, string) (domain.Command, error) { return open, nil }}, a.now(), nil)
			if err != nil {
				return err
			}
			if w.Store, err = a.openStore(cmd.Context(), true); err != nil {
				return err
			}
			err = b.Flush(cmd.Context())
			if errors.Is(err, eventstore.ErrWrongExpectedRevision) {
				return fmt.Errorf("negotiation %s already exists in %s; choose another --treaty", a.treaty, a.storeName())
			}
			if err != nil {
				return err
			}
			opened := evs[0].(domain.TreatyOpened)
			if a.format == "json" {
				return a.writeJSON(map[string]any{"treaty": opened.Treaty, "title": opened.Title, "parties": opened.Parties, "event": 1})
			}
			fmt.Fprintf(a.stdout, "Opened %s: %s\n", opened.Treaty, opened.Title)
			for _, p := range opened.Parties {
				fmt.Fprintf(a.stdout, "  %-8s %-9s %s\n", p.Code, p.Role, p.Name)
			}
			return nil
		},
	}
	c.Flags().StringVar(&title, "title", "", "the title of the text under negotiation")
	c.Flags().StringArrayVar(&parties, "party", nil, "a party, as CODE or CODE=NAME (repeat for each)")
	c.Flags().StringArrayVar(&observers, "observer", nil, "an observer or mediator, as CODE or CODE=NAME (repeat for each)")
	c.Flags().StringArrayVar(&pins, "key", nil, "pin a participant's public key, as CODE=KEY (from keys generate; compare fingerprints out of band first); repeat for each")
	return c
}

// parseParty reads CODE or CODE=NAME.
func parseParty(spec string, role domain.Role) domain.Party {
	code, name, _ := strings.Cut(spec, "=")
	code, name = strings.TrimSpace(code), strings.TrimSpace(name)
	if name == "" {
		name = code
	}
	return domain.Party{Code: code, Name: name, Role: role}
}
