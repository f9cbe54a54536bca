package activities

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
)

// notAboutOneStore are the activities whose input names no store: StoreOf
// gives "" for them.
var notAboutOneStore = map[string]bool{
	"AwaitWorkflowClosed":    true, // a workflow ID
	"ListRolloutTargets":     true, // a rollout's query
	"GetStores":              true, // many stores
	"SetCurrentChartVersion": true, // the fleet's version
}

// TestStoreOfNamesEveryActivitysStore: for every activity whose input is
// about one store, StoreOf finds the store's name in it, so the worker's
// log lines name the store; an activity with a new input type fails here
// until StoreOf knows it.
func TestStoreOfNamesEveryActivitysStore(t *testing.T) {
	ctxType := reflect.TypeFor[context.Context]()
	at := reflect.TypeFor[*Activities]()
	for i := range at.NumMethod() {
		m := at.Method(i)
		// Activities take (receiver, ctx, input).
		if m.Type.NumIn() != 3 || m.Type.In(1) != ctxType {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			in := reflect.New(m.Type.In(2))
			// The name where each kind of input keeps it; decoded as the SDK
			// decodes an activity's input.
			_ = json.Unmarshal([]byte(`{"spec":{"name":"shop"},"name":"shop"}`), in.Interface())
			got := StoreOf([]any{in.Elem().Interface()})
			want := "shop"
			if notAboutOneStore[m.Name] {
				want = ""
			}
			if got != want {
				t.Fatalf("StoreOf(%s) = %q, want %q", m.Type.In(2), got, want)
			}
		})
	}
}

func TestStoreOfWithoutArguments(t *testing.T) {
	if got := StoreOf(nil); got != "" {
		t.Fatalf("StoreOf(nil) = %q", got)
	}
}
