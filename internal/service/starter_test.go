package service

import "testing"

// TestStarterStartsInTheRequestWhenFull: a full queue refuses the start
// (the request then makes it itself); what was queued runs once a
// goroutine is free.
func TestStarterStartsInTheRequestWhenFull(t *testing.T) {
	st := newStarter(1, 1)
	hold, ran := make(chan struct{}), make(chan string, 3)
	first := make(chan struct{})
	if !st.enqueue(func() { close(first); <-hold; ran <- "a" }) {
		t.Fatal("the first start was refused")
	}
	<-first // a runs and holds the only goroutine
	if !st.enqueue(func() { ran <- "b" }) {
		t.Fatal("b was refused with room in the queue")
	}
	if st.enqueue(func() { ran <- "c" }) {
		t.Fatal("c was queued in a full queue")
	}
	close(hold)
	if got := []string{<-ran, <-ran}; got[0] != "a" || got[1] != "b" {
		t.Fatalf("ran %v, want [a b]", got)
	}
	select {
	case x := <-ran:
		t.Fatalf("%s ran, refused", x)
	default:
	}
}
