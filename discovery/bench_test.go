package discovery

import (
	"context"
	"encoding/json"
	"testing"
)

func BenchmarkDiscoverCached(b *testing.B) {
	p := newProvider(b, nil)
	c := New(Config{})
	ctx := context.Background()
	if _, err := c.Discover(ctx, p.URL()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Discover(ctx, p.URL()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkNormalizeIssuer(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NormalizeIssuer("login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDocument(b *testing.B) {
	const iss = "https://idp.example.com"
	doc, err := json.Marshal(validDoc(iss, iss))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := parseDocument(doc, iss); err != nil {
			b.Fatal(err)
		}
	}
}
