package main

import (
	"cmp"
	"context"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/mirror"
	"github.com/offload-dev/offload/mirror/s3mirror"
)

// s3Mirror builds a mirror to another bucket: in another region, or at an
// S3-compatible store (api_url), path-style when asked.
func (d *deps) s3Mirror(ctx context.Context, m config.Mirror) (mirror.Mirror, error) {
	cfg, err := d.aws(ctx)
	if err != nil {
		return nil, err
	}
	envPathStyle, _ := strconv.ParseBool(os.Getenv("OFFLOAD_S3_PATH_STYLE"))
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if m.Region != "" {
			o.Region = m.Region
		}
		if m.APIURL != "" {
			o.BaseEndpoint = &m.APIURL
		}
		o.UsePathStyle = m.PathStyle || envPathStyle
		o.HTTPClient = awsClientFor(cfg, cmp.Or(m.Timeout.Duration, config.DefaultTimeout))
	})
	return s3mirror.New(s3mirror.Options{Client: client, Bucket: m.Bucket, Prefix: m.Prefix, Timeout: m.Timeout.Duration})
}
