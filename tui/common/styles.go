package common

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Styles is one session's styles. Colours are 256-palette indexes, which
// the program downsamples to 16 colours or none per terminal.
type Styles struct {
	Brand, Tab, TabActive, Rule   lipgloss.Style
	Title, Subtitle, Muted, Label lipgloss.Style
	OK, Error, Warn, Selected     lipgloss.Style
	Cursor, Note, Bold            lipgloss.Style
	Help                          help.Styles
}

// DefaultStyles builds the styles for a dark or light background.
func DefaultStyles(dark bool) *Styles {
	ld := lipgloss.LightDark(dark)
	accent := ld(lipgloss.Color("55"), lipgloss.Color("141"))
	muted := ld(lipgloss.Color("243"), lipgloss.Color("245"))
	s := &Styles{
		Brand:     lipgloss.NewStyle().Bold(true).Foreground(accent),
		Tab:       lipgloss.NewStyle().Foreground(muted).Padding(0, 1),
		TabActive: lipgloss.NewStyle().Bold(true).Reverse(true).Padding(0, 1),
		Rule:      lipgloss.NewStyle().Foreground(muted),
		Title:     lipgloss.NewStyle().Bold(true).Foreground(accent),
		Subtitle:  lipgloss.NewStyle().Bold(true),
		Muted:     lipgloss.NewStyle().Foreground(muted),
		Label:     lipgloss.NewStyle().Bold(true),
		OK:        lipgloss.NewStyle().Foreground(ld(lipgloss.Color("28"), lipgloss.Color("42"))),
		Error:     lipgloss.NewStyle().Foreground(ld(lipgloss.Color("160"), lipgloss.Color("203"))),
		Warn:      lipgloss.NewStyle().Foreground(ld(lipgloss.Color("130"), lipgloss.Color("214"))),
		Selected:  lipgloss.NewStyle().Reverse(true),
		Cursor:    lipgloss.NewStyle().Foreground(accent).Bold(true),
		Note:      lipgloss.NewStyle().Foreground(muted).Italic(true),
		Bold:      lipgloss.NewStyle().Bold(true),
		Help:      help.DefaultStyles(dark),
	}
	return s
}
