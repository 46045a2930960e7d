package setup

import (
	"errors"
	"regexp"
	"strings"

	"github.com/cwbridge/cwbridge/cwclient"
)

// Field validators mirror what cwclient.New checks, so errors show while
// typing instead of after a failed verify.

func validSite(s string) error {
	_, err := cwclient.ParseSite(s)
	if err != nil {
		var e *cwclient.Error
		if errors.As(err, &e) && e.Message != "" {
			return errors.New(e.Message)
		}
	}
	return err
}

func validCompanyID(s string) error {
	switch {
	case s == "":
		return errors.New("company ID is empty: it is the company you type on the ConnectWise login page")
	case strings.ContainsAny(s, "+:/ "):
		return errors.New("company ID must not contain '+', ':', '/' or spaces")
	}
	return nil
}

func validPublicKey(s string) error {
	switch {
	case s == "":
		return errors.New("public key is empty: API keys are made on the API member (System > Members > API Members)")
	case strings.ContainsAny(s, ": "):
		return errors.New("public key must not contain ':' or spaces")
	}
	return nil
}

func validPrivateKey(s string) error {
	if s == "" {
		return errors.New("private key is empty: it is shown once, when the API key is created")
	}
	return nil
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func validClientID(s string) error {
	switch {
	case s == "":
		return errors.New("client ID is empty: ConnectWise issues one per integration (developer.connectwise.com)")
	case !guidRE.MatchString(s):
		return errors.New("client ID is a GUID like 1b4e28ba-2fa1-11d2-883f-0016d3cca427")
	}
	return nil
}
