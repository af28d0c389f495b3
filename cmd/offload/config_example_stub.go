package main

// exampleYAML is what offload config example prints.
//
// TEMPORARY stand-in until package config's ExampleYAML lands. Then delete
// this file, and in config.go (newConfigExampleCmd) write
// config.ExampleYAML() for exampleYAML().
var exampleYAML = func() []byte {
	return []byte(`# offload's configuration. Every field is optional unless marked required.
listen: 127.0.0.1:8080          # serve's address
state:
  driver: bolt                  # bolt (default), dynamodb or memory
  path: offload.db              # the bolt file
sites:
  - name: www                   # required
    bucket: my-site             # required; * for every bucket
    prefix: public/             # only keys under it; stripped to make the path
    targets: [cf]               # the targets its changes purge
targets:
  - name: cf                    # required
    provider: cloudfront        # required: cloudfront, akamai, fastly, cloudflare, varnish or log
    distribution_id: E8F6HK73EP0LT
`)
}
