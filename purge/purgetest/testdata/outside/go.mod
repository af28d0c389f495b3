// A module of its own, as a third party's provider would be: its test runs
// offload's purgetest conformance suite against a fake of its CDN.
// purge/purgetest's TestOutsideModule runs it.
module example.com/toycdn

go 1.26.8

require github.com/offload-dev/offload v0.0.0

replace github.com/offload-dev/offload => ../../../..
