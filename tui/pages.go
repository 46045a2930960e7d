package tui

import (
	"github.com/cwbridge/cwbridge/tui/activity"
	"github.com/cwbridge/cwbridge/tui/alerts"
	"github.com/cwbridge/cwbridge/tui/billing"
	"github.com/cwbridge/cwbridge/tui/common"
	"github.com/cwbridge/cwbridge/tui/companies"
	"github.com/cwbridge/cwbridge/tui/feed"
	"github.com/cwbridge/cwbridge/tui/health"
	"github.com/cwbridge/cwbridge/tui/setup"
)

func newPages(c *common.Common, o Options) [common.NumPages]common.Page {
	var p [common.NumPages]common.Page
	p[common.PageSetup] = setup.New(c, setup.Options{Prefill: o.Prefill, Banner: o.Banner})
	p[common.PageCompanies] = companies.New(c)
	p[common.PageAlerts] = alerts.New(c)
	p[common.PageFeed] = feed.New(c)
	p[common.PageHealth] = health.New(c)
	p[common.PageActivity] = activity.New(c)
	p[common.PageBilling] = billing.New(c)
	return p
}
