package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/slipway-ml/slipway/runners/signing"
)

func (a *app) keysCommand() *cobra.Command {
	keys := &cobra.Command{Use: "keys", Short: "Manage signing keys"}
	var out string
	gen := &cobra.Command{
		Use:   "generate --out DIR",
		Short: "Write an ECDSA P-256 key pair in cosign's formats",
		Long: `Generate writes DIR/cosign.key (an encrypted private key, as cosign
generate-key-pair writes it) and DIR/cosign.pub (the PKIX public key). The
password comes from $COSIGN_PASSWORD, or a prompt on a terminal; never from
a flag. Existing files are never overwritten.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out is required")
			}
			pw, err := a.password(true)
			if err != nil {
				return err
			}
			priv, pub, err := signing.GenerateKeyPair(pw)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("keys: %w", err)
			}
			kp, pp, err := signing.WriteKeyPair(out, priv, pub)
			if err != nil {
				return err
			}
			if a.json {
				return a.writeJSON(map[string]string{"privateKey": kp, "publicKey": pp})
			}
			fmt.Fprintf(a.stdout, "wrote %s\nwrote %s\n", kp, pp)
			return nil
		},
	}
	gen.Flags().StringVar(&out, "out", "", "directory for cosign.key and cosign.pub (required)")
	keys.AddCommand(gen)
	return keys
}

// password reads the key password from $COSIGN_PASSWORD, or prompts for it
// when stdin is a terminal (twice when confirm is set).
func (a *app) password(confirm bool) ([]byte, error) {
	if pw, ok := signing.PasswordFromEnv(); ok && len(pw) > 0 {
		return pw, nil
	}
	in, ok := a.stdin.(*os.File)
	if !ok || !isTerminal(in) {
		return nil, usagef("set COSIGN_PASSWORD to the key's password (there is no terminal to ask on)")
	}
	pw, err := signing.ReadPassword("Password for the key: ", in, a.stderr)
	if err != nil {
		return nil, err
	}
	if confirm {
		again, err := signing.ReadPassword("Again: ", in, a.stderr)
		if err != nil {
			return nil, err
		}
		if string(again) != string(pw) {
			return nil, usagef("the passwords differ")
		}
	}
	return pw, nil
}
