package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/simdmlp/simdmlp/optim"
)

// TestTrainOptimizerFlag checks that -optimizer takes every registered
// optimizer, in any case, that -lr reaches it, and that the help lists it.
func TestTrainOptimizerFlag(t *testing.T) {
	var help bytes.Buffer
	if _, err := parseTrainFlags([]string{"-h"}, &help); err == nil {
		t.Fatal("-h: no error")
	}
	for _, name := range optim.Names() {
		if !strings.Contains(help.String(), name) {
			t.Errorf("the help of -optimizer does not list %q:\n%s", name, help.String())
		}
		c, err := parseTrainFlags([]string{"-optimizer", strings.ToUpper(name), "-lr", "0.25"}, os.Stderr)
		if err != nil {
			t.Errorf("-optimizer %s: %v", strings.ToUpper(name), err)
			continue
		}
		if got := strings.ToLower(c.optimizer.Name()); got != name {
			t.Errorf("-optimizer %s gives %s", name, c.optimizer.Name())
		}
		if s := fmt.Sprint(c.optimizer); !strings.Contains(s, "learning_rate=0.25,") && !strings.Contains(s, "learning_rate=0.25)") {
			t.Errorf("-optimizer %s -lr 0.25 gives %s", name, s)
		}
	}
}
