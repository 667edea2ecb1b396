//go:build esdb

package main

// The KurrentDB / EventStoreDB backend: esdb:// and esdb+discover:// stores.
import _ "github.com/treaty-engine/treaty/eventstore/esdb"
