package main

import (
	"context"
	"errors"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/mirror"
)

// s3Mirror builds an S3 mirror. (Wired to mirror/s3mirror when it lands.)
func (d *deps) s3Mirror(ctx context.Context, m config.Mirror) (mirror.Mirror, error) {
	return nil, errors.New("the s3 mirror is not available in this build")
}
