package activities

import (
	"reflect"
	"testing"
)

func TestParseStoreAccess(t *testing.T) {
	for _, tt := range []struct {
		name    string
		in      string
		want    []StoreAccess
		wantErr bool
	}{
		{"empty", "", nil, false},
		{"two", "sp-store=platform/sp-worker, sp-api-store=platform/sp-api", []StoreAccess{
			{ClusterRole: "sp-store", Namespace: "platform", ServiceAccount: "sp-worker"},
			{ClusterRole: "sp-api-store", Namespace: "platform", ServiceAccount: "sp-api"},
		}, false},
		{"no subject", "sp-store", nil, true},
		{"no namespace", "sp-store=sp-worker", nil, true},
		{"empty role", "=platform/sp-worker", nil, true},
		{"extra slash", "sp-store=platform/sp/worker", nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStoreAccess(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
