//go:build !unix

package metrics

func processCPUSeconds() (float64, bool) { return 0, false }

func processRSS() (float64, bool) { return 0, false }
