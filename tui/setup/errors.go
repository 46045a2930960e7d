package setup

import (
	"errors"

	"github.com/cwbridge/cwbridge/cwclient"
)

func asCW(err error, e **cwclient.Error) bool { return errors.As(err, e) }
