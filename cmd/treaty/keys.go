package main

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/treaty-engine/treaty/cmd/treaty/internal/write"
	"github.com/treaty-engine/treaty/domain"
)

// keyring is the directory that holds this machine's private keys, one file
// per negotiation, party and key: DIR/TREATY/PARTY-KEYID.key, PKCS #8 in PEM,
// readable by its owner only.
type keyring struct{ dir string }

// keyring returns the key directory: --keys, TREATY_KEYS, or treaty/keys in
// the user's configuration directory.
func (a *app) keyring() (keyring, error) {
	if a.keysDir != "" {
		return keyring{a.keysDir}, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return keyring{}, fmt.Errorf("no directory for signing keys (%v): name one with --keys DIR or TREATY_KEYS", err)
	}
	return keyring{filepath.Join(base, "treaty", "keys")}, nil
}

// file is where the private key id of party in treaty lives. The names are
// checked before they become a path: a negotiation's ID comes from the
// store, which may have been imported from anywhere, and must not lead a
// key out of the key directory.
func (k keyring) file(treaty, party, id string) (string, error) {
	for _, c := range []struct{ kind, v string }{{"treaty ID", treaty}, {"party code", party}, {"key ID", id}} {
		if err := domain.CheckSlug(c.kind, c.v); err != nil {
			return "", err
		}
	}
	return filepath.Join(k.dir, treaty, party+"-"+id+".key"), nil
}

// load reads the private key with ID id of party in treaty.
func (k keyring) load(treaty, party, id string) (ed25519.PrivateKey, error) {
	path, err := k.file(treaty, party, id)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("this machine holds no key for %s: %s registered key %s, whose private key is not in %s; act from the machine that holds it, or copy its file there", party, party, id, path)
	}
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the key file %s is open to other users (mode %v): make it private with chmod 600 %s", path, st.Mode().Perm(), path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("the key file %s holds no PEM private key", path)
	}
	priv, ok := parsePrivateKey(block.Bytes)
	if !ok {
		return nil, fmt.Errorf("the key file %s holds no ed25519 private key", path)
	}
	if domain.KeyID(priv.Public().(ed25519.PublicKey)) != id {
		return nil, fmt.Errorf("the key file %s does not hold key %s", path, id)
	}
	return priv, nil
}

// pkcs8Ed25519 is how x509.MarshalPKCS8PrivateKey, and so save, starts an
// Ed25519 key: RFC 8410's PrivateKeyInfo of version 0 around the 32-byte
// seed, which follows.
var pkcs8Ed25519 = []byte{0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20}

// parsePrivateKey reads a PKCS #8 Ed25519 private key. The form save
// writes is read here, its public key worked out by domain.KeyFromSeed,
// which spares a command that signs one event crypto/ed25519's table of
// the base point; any other form is left to crypto/x509.
func parsePrivateKey(der []byte) (ed25519.PrivateKey, bool) {
	if len(der) == len(pkcs8Ed25519)+ed25519.SeedSize && bytes.HasPrefix(der, pkcs8Ed25519) {
		return domain.KeyFromSeed(der[len(pkcs8Ed25519):]), true
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	priv, ok := key.(ed25519.PrivateKey)
	return priv, err == nil && ok
}

// save writes a private key, readable by its owner only, and returns its
// path. It never overwrites a file.
func (k keyring) save(treaty, party string, priv ed25519.PrivateKey) (string, error) {
	id := domain.KeyID(priv.Public().(ed25519.PublicKey))
	path, err := k.file(treaty, party, id)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("cannot make the key directory: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// The same key saved again (simulate with the same seed): fine;
		// any other key under its ID would be a forgery.
		if held, err := k.load(treaty, party, id); err == nil && held.Equal(priv) {
			return path, nil
		}
		return "", fmt.Errorf("a different key is already stored as %s; move it away first", path)
	}
	if err != nil {
		return "", fmt.Errorf("cannot write the key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// PrivateKey returns the private key with ID id of party in treaty, as
// the write path asks for it (write.Keys).
func (k keyring) PrivateKey(treaty, party, id string) (ed25519.PrivateKey, error) {
	return k.load(treaty, party, id)
}

// checkpointSecretFile is the file in the key directory that holds this
// machine's secret for authenticating checkpoints.
const checkpointSecretFile = "checkpoints.secret"

// checkpointSecret returns this machine's secret for authenticating
// checkpoints (see projections.Options): 32 random bytes in the key
// directory, readable by their owner only, made on first use. Someone who
// can edit the store but not this directory cannot forge a checkpoint.
// Without a secret (no key directory, or one that cannot be written)
// checkpoints are not used: every read folds from the first event.
func (a *app) checkpointSecret() []byte {
	if a.secret != nil {
		return a.secret
	}
	a.secret = []byte{}
	kr, err := a.keyring()
	if err != nil {
		return a.secret
	}
	path := filepath.Join(kr.dir, checkpointSecretFile)
	if b, err := os.ReadFile(path); err == nil && len(b) == 32 {
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 == 0 {
			a.secret = b
		}
		return a.secret
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return a.secret
	}
	if err := os.MkdirAll(kr.dir, 0o700); err != nil {
		return a.secret
	}
	// Written whole under a temporary name, then linked into place: two
	// processes making it at once agree on whichever lands first.
	a.listen() // Ctrl-C from here on lets the temporary file be removed
	tmp, err := os.CreateTemp(kr.dir, ".checkpoints-*")
	if err != nil {
		return a.secret
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(secret); err != nil || tmp.Sync() != nil || tmp.Close() != nil {
		tmp.Close()
		return a.secret
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return a.secret
	}
	if b, err := os.ReadFile(path); err == nil && len(b) == 32 {
		a.secret = b
	}
	return a.secret
}

func (a *app) keysCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "keys",
		Short: "Signing keys: generate, register, endorse, revoke, fingerprint, list",
		Long: `Signing keys say who acted. A participant's key authenticates its acts once it
is in effect: pinned when the negotiation was opened (init --key CODE=KEY, with
the fingerprints compared out of band), or registered in the log and then
endorsed by every other party (keys endorse), each endorsement signed with the
endorser's own key. Parties that register keys and endorse each other's take
effect together. Until a participant's key is in effect its acts are not
authenticated, and every report says so. A lost key is replaced by a new one
the others endorse; a stolen one is revoked by its owner or by every other
party.

Private keys stay on this machine, in --keys DIR (TREATY_KEYS; by default
treaty/keys in the user's configuration directory), readable by their owner
only.`,
		Example: `  treaty --treaty berlin --as UA keys generate     # before init: a key to pin
  treaty --as UA keys new                            # register a new key
  treaty keys fingerprint UA                         # read it aloud to UA's delegation
  treaty --as EU keys endorse UA --fingerprint "1f2e 3d4c …"
  treaty --as EU keys revoke US --reason "key stolen"
  treaty keys list`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q: it has generate, new, rotate, endorse, revoke, fingerprint and list", args[0], cmd.CommandPath())
			}
			return usagef("%s needs a subcommand: generate, new, rotate, endorse, revoke, fingerprint or list", cmd.CommandPath())
		},
	}
	c.AddCommand(a.keysGenerateCommand(), a.keysRegisterCommand(false), a.keysRegisterCommand(true),
		a.keysEndorseCommand(), a.keysRevokeCommand(), a.keysFingerprintCommand(), a.keysListCommand())
	return c
}

// keyReport is what the key commands print as JSON about one key.
type keyReport struct {
	Party       string   `json:"party"`
	Key         string   `json:"key"`
	PublicKey   string   `json:"public_key"`
	Fingerprint string   `json:"fingerprint"`
	Status      string   `json:"status,omitempty"`
	Missing     []string `json:"missing,omitempty"`
	Held        bool     `json:"held"`
	File        string   `json:"file,omitempty"`
	Event       int      `json:"event,omitempty"`
}

func fingerprintOf(b64 string) string {
	pub, err := domain.ParseKey(b64)
	if err != nil {
		return ""
	}
	return domain.Fingerprint(pub)
}

func (a *app) keysGenerateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "generate",
		Short: "Make a key pair for the acting party on this machine, without touching the log",
		Long: `Make a key pair for the acting party and keep its private half in --keys DIR.
Nothing is written to the log: print the public key, compare its fingerprint
with the other delegations out of band, and pin it when the negotiation is
opened (init --key CODE=KEY). Needs --treaty: the key belongs to one
negotiation.`,
		Example: "  treaty --treaty berlin --as UA keys generate",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			if a.treaty == "" {
				return usagef("keys generate needs the negotiation's ID: --treaty ID (the key belongs to one negotiation)")
			}
			kr, err := a.keyring()
			if err != nil {
				return err
			}
			pub, priv, err := ed25519.GenerateKey(nil)
			if err != nil {
				return err
			}
			a.listen() // Ctrl-C from here on lets a key be written whole
			path, err := kr.save(a.treaty, party, priv)
			if err != nil {
				return err
			}
			rep := keyReport{Party: party, Key: domain.KeyID(pub), PublicKey: domain.EncodeKey(pub), Fingerprint: domain.Fingerprint(pub), Held: true, File: path}
			if a.format == "json" {
				return a.writeJSON(rep)
			}
			fmt.Fprintf(a.stdout, "Made key %s for %s in %s (nothing was written to the log).\n", rep.Key, party, a.treaty)
			fmt.Fprintf(a.stdout, "Public key:  %s\nFingerprint: %s\n", rep.PublicKey, rep.Fingerprint)
			fmt.Fprintf(a.stdout, "Read the fingerprint to the other delegations, then pin the key when the negotiation opens:\n  treaty --treaty %s init … --key %s=%s\n", a.treaty, party, rep.PublicKey)
			return nil
		},
	}
}

func (a *app) keysRegisterCommand(rotate bool) *cobra.Command {
	use, short, long := "new", "Make a key for the acting party and register it in the log",
		`Make a key pair for the acting party, keep its private half in --keys DIR, and
register the public key in the log: a first key, or a new one after a key was
lost. It takes effect once every other party endorses it (keys endorse); until
then the party's acts are not authenticated.`
	if rotate {
		use, short, long = "rotate", "Replace the acting party's key in effect with a new one",
			`Make a new key pair for the acting party and register it, signed with the key
in effect, which it is to replace. The new key takes effect, and the old one
ends, once every other party endorses it.`
	}
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    long,
		Example: "  treaty --as UA keys " + use,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			kr, err := a.keyring()
			if err != nil {
				return err
			}
			w, err := a.writer(cmd.Context())
			if err != nil {
				return err
			}
			pub, priv, err := ed25519.GenerateKey(nil)
			if err != nil {
				return err
			}
			// Saved first: a registration signs itself with the key, and
			// its private half must outlive any crash after the append.
			a.listen() // Ctrl-C from here on lets a key be written whole
			path, err := kr.save(w.Reader.Treaty(), party, priv)
			if err != nil {
				return err
			}
			out, err := w.Do(cmd.Context(), write.Act{Party: party, Author: a.author, Command: func(s *domain.State, _ string) (domain.Command, error) {
				if _, current, has := s.KeyOf(party); rotate && !has {
					return nil, fmt.Errorf("%s has no key in effect to rotate; register a first one with `treaty --as %s keys new`", party, party)
				} else if has && !rotate {
					return nil, fmt.Errorf("%s already has key %s in effect; replace it with `treaty --as %s keys rotate`", party, current, party)
				}
				return domain.RegisterKey{Party: party, Key: pub}, nil
			}})
			if err != nil {
				os.Remove(path) // never registered: nothing will ask for it
				return err
			}
			k := out.State.Keys[domain.KeyID(pub)]
			rep := keyReport{Party: party, Key: k.ID, PublicKey: k.Public, Fingerprint: domain.Fingerprint(pub), Status: string(k.Status),
				Missing: out.State.Missing(k), Held: true, File: path, Event: out.First}
			if a.format == "json" {
				return a.writeJSON(rep)
			}
			fmt.Fprintf(a.stdout, "Registered key %s for %s (event %d). Fingerprint: %s\n", rep.Key, party, out.First, rep.Fingerprint)
			if k.Status == domain.KeyIsEffective {
				fmt.Fprintf(a.stdout, "It is in effect: every act of %s must now be signed with it.\n", party)
			} else {
				fmt.Fprintf(a.stdout, "It takes effect once %s endorse it: read them the fingerprint, and each runs\n  treaty --as CODE keys endorse %s --fingerprint %q\n", andList(rep.Missing), party, rep.Fingerprint)
			}
			fmt.Fprintf(a.stdout, "Private key: %s: keep it safe, and keep a copy.\n", path)
			return nil
		},
	}
}

func (a *app) keysEndorseCommand() *cobra.Command {
	var key, fingerprint string
	c := &cobra.Command{
		Use:   "endorse PARTY [--key ID] [--fingerprint FP]",
		Short: "Vouch, as the acting party, for another participant's key",
		Long: `Record that the acting party vouches for PARTY's key (its pending key, or the
one --key names): its delegation compared the key's fingerprint with PARTY's
out of band. Give --fingerprint as read aloud, and the endorsement is refused
unless it matches. The endorsement is signed with the acting party's own key;
a key takes effect once every other party has endorsed it.`,
		Example: `  treaty keys fingerprint UA
  treaty --as EU keys endorse UA --fingerprint "1f2e 3d4c 5b6a 7988 1f2e 3d4c 5b6a 7988"`,
		Args: exactArgs(1, "the participant whose key is endorsed"),
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			subject := args[0]
			if err := domain.CheckSlug("party code", subject); err != nil {
				return &usageError{err}
			}
			out, err := a.act(cmd.Context(), func(s *domain.State, _ string) (domain.Command, error) {
				c := domain.EndorseKey{Party: party, Subject: subject, Key: key}
				if fingerprint != "" {
					k := s.Keys[key]
					if key == "" {
						k, _ = s.PendingKey(subject)
					}
					if k != nil && normalFingerprint(fingerprintOf(k.Public)) != normalFingerprint(fingerprint) {
						return nil, fmt.Errorf("key %s of %s has fingerprint %s, not %s: do not endorse it; ask %s which key is theirs", k.ID, subject, fingerprintOf(k.Public), fingerprint, subject)
					}
				}
				return c, nil
			})
			if err != nil {
				return err
			}
			e := out.Events[0].(domain.KeyEndorsed)
			k := out.State.Keys[e.Key]
			if a.format == "json" {
				return a.writeJSON(map[string]any{"party": party, "subject": subject, "key": e.Key, "by": e.By,
					"fingerprint": fingerprintOf(k.Public), "status": k.Status, "missing": nonNil(out.State.Missing(k)), "event": out.First})
			}
			fmt.Fprintf(a.stdout, "%s endorses key %s of %s (fingerprint %s), event %d.\n", party, e.Key, subject, fingerprintOf(k.Public), out.First)
			if k.Status == domain.KeyIsEffective {
				fmt.Fprintf(a.stdout, "The key is in effect: every act of %s must now be signed with it.\n", subject)
			} else if m := out.State.Missing(k); len(m) > 0 {
				fmt.Fprintf(a.stdout, "It takes effect once it has the endorsement of %s too.\n", andList(m))
			} else {
				var waiting []string
				for _, en := range k.Endorsements {
					if by := out.State.Keys[en.By]; by != nil && by.Status == domain.KeyIsPending {
						waiting = append(waiting, en.Party)
					}
				}
				fmt.Fprintf(a.stdout, "Every party has endorsed it; it takes effect once the keys of %s that endorsed it do.\n", andList(waiting))
			}
			return nil
		},
	}
	c.Flags().StringVar(&key, "key", "", "the ID of the key to endorse (default: PARTY's pending key)")
	c.Flags().StringVar(&fingerprint, "fingerprint", "", "the fingerprint as PARTY's delegation read it aloud; refused unless it matches")
	_ = c.RegisterFlagCompletionFunc("key", cobra.NoFileCompletions)
	return c
}

// normalFingerprint compares fingerprints however they were spaced or
// cased when typed.
func normalFingerprint(fp string) string {
	return strings.ToLower(strings.Join(strings.Fields(fp), ""))
}

func (a *app) keysRevokeCommand() *cobra.Command {
	var key, reason string
	c := &cobra.Command{
		Use:   "revoke PARTY [--key ID] [--reason T]",
		Short: "Vote to end a participant's key (lost or stolen)",
		Long: `Record the acting party's vote to end PARTY's key (its key in effect, or the one
--key names). A participant may end its own key alone; another's ends once
every other party has voted so, each with its own key in effect. A revoked
key authenticates nothing from then on; the participant registers a new one
(keys new), which the others endorse.`,
		Example: `  treaty --as UA keys revoke UA --reason "laptop lost"
  treaty --as EU keys revoke US --reason "key stolen"`,
		Args: exactArgs(1, "the participant whose key is to end"),
		RunE: func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			subject := args[0]
			if err := domain.CheckSlug("party code", subject); err != nil {
				return &usageError{err}
			}
			out, err := a.act(cmd.Context(), func(*domain.State, string) (domain.Command, error) {
				return domain.RevokeKey{Party: party, Subject: subject, Key: key, Reason: reason}, nil
			})
			if err != nil {
				return err
			}
			e := out.Events[0].(domain.KeyRevoked)
			k := out.State.Keys[e.Key]
			if a.format == "json" {
				return a.writeJSON(map[string]any{"party": party, "subject": subject, "key": e.Key, "status": k.Status, "event": out.First})
			}
			fmt.Fprintf(a.stdout, "%s votes to end key %s of %s (event %d).\n", party, e.Key, subject, out.First)
			if k.Status == domain.KeyIsRevoked {
				fmt.Fprintf(a.stdout, "The key is revoked: it authenticates nothing from now on. %s registers a new one with `treaty --as %s keys new`.\n", subject, subject)
			} else {
				var waiting []string
				for _, p := range out.State.Parties {
					if p.Role == domain.RoleParty && p.Code != subject && !slices.Contains(k.Revocations, p.Code) {
						waiting = append(waiting, p.Code)
					}
				}
				fmt.Fprintf(a.stdout, "It ends once %s vote so too.\n", andList(waiting))
			}
			return nil
		},
	}
	c.Flags().StringVar(&key, "key", "", "the ID of the key to end (default: PARTY's key in effect)")
	c.Flags().StringVar(&reason, "reason", "", "why")
	return c
}

func (a *app) keysFingerprintCommand() *cobra.Command {
	var public string
	c := &cobra.Command{
		Use:   "fingerprint [PARTY] [--public KEY]",
		Short: "Print the fingerprints people read aloud to compare keys",
		Long: `Print the fingerprint of each key of PARTY (every participant's without one)
that is in effect or pending, or of the public key --public gives: 32 hex
digits in groups of four, for delegations to read to each other over a
channel they trust before pinning or endorsing a key.`,
		Example: "  treaty keys fingerprint UA\n  treaty keys fingerprint --public MCowBQYDK2VwAyEA…",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("%s takes at most one party code", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if public != "" {
				pub, err := domain.ParseKey(public)
				if err != nil {
					return &usageError{fmt.Errorf("--public: %w", err)}
				}
				if a.format == "json" {
					return a.writeJSON(keyReport{Key: domain.KeyID(pub), PublicKey: public, Fingerprint: domain.Fingerprint(pub)})
				}
				fmt.Fprintf(a.stdout, "%s  %s\n", domain.KeyID(pub), domain.Fingerprint(pub))
				return nil
			}
			reps, err := a.keyReports(cmd, args, false)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.writeJSON(reps)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PARTY\tKEY\tSTATUS\tFINGERPRINT")
			for _, r := range reps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Party, r.Key, r.Status, r.Fingerprint)
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&public, "public", "", "a public key (base64), as keys generate printed it")
	return c
}

func (a *app) keysListCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the participants' keys, where each stands, and which this machine holds",
		Example: "  treaty keys list --format json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			reps, err := a.keyReports(cmd, nil, true)
			if err != nil {
				return err
			}
			if a.format == "json" {
				return a.writeJSON(reps)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PARTY\tKEY\tSTATUS\tON THIS MACHINE\tAWAITING")
			for _, r := range reps {
				key, held := r.Key, "no"
				switch {
				case key == "":
					key, held = "-", "-"
				case r.Held:
					held = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Party, key, cmp.Or(r.Status, "none: acts not authenticated"), held, dash(r.Missing))
			}
			return tw.Flush()
		},
	}
}

// keyReports lists the keys of the participants named (every one when
// none is), in effect or pending, and with all every ended one too; a
// participant without a key gets a row without one.
func (a *app) keyReports(cmd *cobra.Command, parties []string, all bool) ([]keyReport, error) {
	r, m, err := a.head(cmd.Context())
	if err != nil {
		return nil, err
	}
	s := m.State
	kr, krErr := a.keyring()
	reps := []keyReport{}
	for _, p := range s.Parties {
		if len(parties) > 0 && !slices.Contains(parties, p.Code) {
			continue
		}
		n := 0
		for _, k := range s.PartyKeys(p.Code) {
			if !all && k.Status != domain.KeyIsEffective && k.Status != domain.KeyIsPending {
				continue
			}
			rep := keyReport{Party: p.Code, Key: k.ID, PublicKey: k.Public, Fingerprint: fingerprintOf(k.Public), Status: string(k.Status)}
			if k.Status == domain.KeyIsPending {
				rep.Missing = s.Missing(k)
			}
			if krErr == nil {
				_, err := kr.load(r.Treaty(), p.Code, k.ID)
				rep.Held = err == nil
			}
			reps = append(reps, rep)
			n++
		}
		if n == 0 {
			reps = append(reps, keyReport{Party: p.Code})
		}
	}
	for _, p := range parties {
		if _, ok := s.Party(p); !ok {
			return nil, fmt.Errorf("%s is not a participant in %s", p, r.Treaty())
		}
	}
	return reps, nil
}

// andList joins codes as prose: "UA", "UA and US", "UA, US and EU".
func andList(codes []string) string {
	switch n := len(codes); n {
	case 0:
		return "nobody"
	case 1:
		return codes[0]
	default:
		return strings.Join(codes[:n-1], ", ") + " and " + codes[n-1]
	}
}

func dash(codes []string) string {
	if len(codes) == 0 {
		return "-"
	}
	return strings.Join(codes, ",")
}
