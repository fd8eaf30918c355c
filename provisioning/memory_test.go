package provisioning_test

import (
	"testing"

	"github.com/ssokit/ssokit/provisioning"
	"github.com/ssokit/ssokit/provisioning/directorytest"
)

func TestMemoryDirectory(t *testing.T) {
	directorytest.Run(t, func(*testing.T) provisioning.Directory {
		return provisioning.NewMemoryDirectory()
	})
}
