package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

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

func (k keyring) file(treaty, party, id string) string {
	return filepath.Join(k.dir, treaty, party+"-"+id+".key")
}

// load reads the private key with ID id of party in treaty.
func (k keyring) load(treaty, party, id string) (ed25519.PrivateKey, error) {
	path := k.file(treaty, party, id)
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
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	priv, ok := key.(ed25519.PrivateKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("the key file %s holds no ed25519 private key", path)
	}
	if domain.KeyID(priv.Public().(ed25519.PublicKey)) != id {
		return nil, fmt.Errorf("the key file %s does not hold key %s", path, id)
	}
	return priv, nil
}

// save writes a private key, readable by its owner only, and returns its
// path. It never overwrites a file.
func (k keyring) save(treaty, party string, priv ed25519.PrivateKey) (string, error) {
	id := domain.KeyID(priv.Public().(ed25519.PublicKey))
	path := k.file(treaty, party, id)
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
		Short: "Signing keys: make one for a party, rotate it, list them",
		Long: `A party that registers a signing key has every act for it signed from then on,
and treaty refuses to act for the party on a machine that does not hold the
key; verify checks every signature. Private keys stay on this machine, in
--keys DIR (TREATY_KEYS; by default treaty/keys in the user's configuration
directory), readable by their owner only.`,
		Example: `  treaty --as UA keys new
  treaty --as UA keys rotate
  treaty keys list`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q: it has new, rotate and list", args[0], cmd.CommandPath())
			}
			return usagef("%s needs a subcommand: new, rotate or list", cmd.CommandPath())
		},
	}
	register := func(rotate bool) func(cmd *cobra.Command, args []string) error {
		return func(cmd *cobra.Command, args []string) error {
			party, err := a.needParty()
			if err != nil {
				return err
			}
			kr, err := a.keyring()
			if err != nil {
				return err
			}
			pub, priv, err := ed25519.GenerateKey(nil)
			if err != nil {
				return err
			}
			r, err := a.reader(cmd.Context())
			if err != nil {
				return err
			}
			path, err := kr.save(r.Treaty(), party, priv)
			if err != nil {
				return err
			}
			out, err := a.act(cmd.Context(), func(s *domain.State, _ string) (domain.Command, error) {
				_, current, has := s.KeyOf(party)
				switch {
				case has && !rotate:
					return nil, fmt.Errorf("%s already has key %s; replace it with `treaty --as %s keys rotate`", party, current, party)
				case !has && rotate:
					return nil, fmt.Errorf("%s has no key to rotate; make one with `treaty --as %s keys new`", party, party)
				}
				return domain.RegisterKey{Party: party, Key: pub}, nil
			})
			if err != nil {
				os.Remove(path) // never registered: nothing will ask for it
				return err
			}
			e := out.Events[0].(domain.PartyKeyRegistered)
			if a.format == "json" {
				return a.writeJSON(map[string]any{"party": party, "key": domain.KeyID(pub), "public_key": e.Key,
					"previous": e.Previous, "file": path, "event": out.First})
			}
			fmt.Fprintf(a.stdout, "Registered key %s for %s (event %d).\n", domain.KeyID(pub), party, out.First)
			if e.Previous != "" {
				fmt.Fprintf(a.stdout, "It replaces key %s; the registration is signed with that key.\n", e.Previous)
			}
			fmt.Fprintf(a.stdout, "Private key: %s\nEvery act for %s must now be signed with it: keep it safe, and keep a copy.\n", path, party)
			return nil
		}
	}
	newKey := &cobra.Command{
		Use:     "new",
		Short:   "Make a signing key for the acting party and register it",
		Example: "  treaty --as UA keys new",
		Args:    noArgs,
		RunE:    register(false),
	}
	rotateKey := &cobra.Command{
		Use:     "rotate",
		Short:   "Replace the acting party's key; the old key signs the new one's registration",
		Example: "  treaty --as UA keys rotate",
		Args:    noArgs,
		RunE:    register(true),
	}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the participants' registered keys and which this machine holds",
		Example: "  treaty keys list --format json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, m, err := a.head(cmd.Context())
			if err != nil {
				return err
			}
			kr, err := a.keyring()
			if err != nil {
				return err
			}
			type row struct {
				Party string `json:"party"`
				Key   string `json:"key"`
				Held  bool   `json:"held"`
			}
			rows := []row{}
			for _, p := range m.State.Parties {
				if _, id, ok := m.State.KeyOf(p.Code); ok {
					_, err := kr.load(r.Treaty(), p.Code, id)
					rows = append(rows, row{p.Code, id, err == nil})
				} else {
					rows = append(rows, row{p.Code, "", false})
				}
			}
			if a.format == "json" {
				return a.writeJSON(rows)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PARTY\tKEY\tON THIS MACHINE")
			for _, r := range rows {
				key, held := r.Key, "no"
				if key == "" {
					key, held = "-", "-"
				} else if r.Held {
					held = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Party, key, held)
			}
			return tw.Flush()
		},
	}
	c.AddCommand(newKey, rotateKey, list)
	return c
}
