package main

import (
	"fmt"
	"strings"
	"time"
)

// fatalLine formats an error the way the original CLI's logrus text
// formatter did when stderr is not a terminal:
//
//	time="2016-12-06T10:00:00Z" level=fatal msg="Group 'x' is not being watched"
func fatalLine(now time.Time, msg string) string {
	return fmt.Sprintf("time=%s level=fatal msg=%s", logfmtValue(now.Format(time.RFC3339)), logfmtValue(msg))
}

// logfmtValue quotes a value unless it consists only of the characters
// logrus leaves bare.
func logfmtValue(s string) string {
	if s == "" || strings.IndexFunc(s, needsQuote) >= 0 {
		return fmt.Sprintf("%q", s)
	}
	return s
}

func needsQuote(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return false
	}
	return !strings.ContainsRune("-._/@^+", r)
}
