//go:build postgres

package main

// The PostgreSQL backend: postgres:// and postgresql:// stores.
import _ "github.com/treaty-engine/treaty/eventstore/postgres"
