// Package deploy holds offload's AWS SAM template (template.yaml) and the
// test that keeps it honest: least-privilege IAM, and every resource the
// code needs declared.
package deploy
