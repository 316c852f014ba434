package main

import (
	_ "github.com/docker/docker/api/types/swarm"
	_ "github.com/docker/docker/api/types/system"
	_ "github.com/docker/docker/client"
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/go-logr/logr"
	_ "github.com/go-logr/logr/testr"
	_ "github.com/go-logr/zapr"
	_ "github.com/spf13/cobra"
	_ "github.com/stretchr/testify/require"
	_ "go.uber.org/zap"
	_ "k8s.io/apimachinery/pkg/util/wait"
	_ "k8s.io/utils/clock"
	_ "k8s.io/utils/clock/testing"
)

func main() {}
