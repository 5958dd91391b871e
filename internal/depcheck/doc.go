// Package depcheck holds only a test: it keeps the layering of DESIGN.md
// true as the code grows, as go-containerregistry's depcheck does. Domain
// packages never depend on cobra, viper or lipgloss, and only
// internal/config imports viper.
package depcheck
