// Command aws synthesizes Coffer's AWS reference deployment into plain CloudFormation
// templates: public.template.json (ALB) and private.template.json (NLB + PrivateLink).
//
//	go run .                      # into $CDK_OUTDIR or ./cdk.out (what `cdk synth` runs)
//	go run . synth --out DIR      # into DIR
//
// Flags (after synth) and CDK context values (-c key=value with `cdk synth`) choose the
// template's shape; see README.md.
package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/cofferhq/coffer/deploy/aws/synth"
)

func main() {
	quietNode()
	if err := synth.Main(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

// quietNode silences jsii's banners about node releases (synth works on node 20 and later)
// unless the caller set them. jsii reads the environment when its package initializes, before
// main runs, so setting them means starting again with the new environment.
func quietNode() {
	again := false
	for k, v := range map[string]string{
		"JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION":    "1",
		"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION":  "1",
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20", // major releases
	} {
		if _, set := os.LookupEnv(k); !set {
			os.Setenv(k, v)
			again = true
		}
	}
	if exe, err := os.Executable(); again && err == nil {
		syscall.Exec(exe, os.Args, os.Environ()) // returns only on failure: carry on, banner and all
	}
}
