package bot

import (
	"context"
	"fmt"
	"time"
)

// Start launches the worker pool and replays messages that were accepted
// but not handled before the last stop (a crash).
func (e *Engine) Start(ctx context.Context) error {
	e.qmu.Lock()
	if e.started {
		e.qmu.Unlock()
		return nil
	}
	e.started = true
	e.qmu.Unlock()
	for i := 0; e.leaser == nil && i < e.cfg.Workers; i++ {
		e.wg.Add(1)
		go e.worker()
	}
	// A forget a crash interrupted finishes before anything is replayed,
	// and so does what the plug-ins do at start (the persona override).
	if err := e.resumeForgets(ctx); err != nil {
		return err
	}
	if err := e.startPlugins(ctx); err != nil {
		return err
	}
	if e.leaser != nil {
		e.startLeased() // the replicas share the inbox: see Leaser
		return nil
	}
	pending, err := e.store.Pending(ctx)
	if err != nil {
		return fmt.Errorf("bot: replay pending: %w", err)
	}
	for _, m := range pending {
		if err := e.enqueue(ctx, queued{m: m, received: e.now(), replay: true}); err != nil {
			return err
		}
	}
	if len(pending) > 0 {
		e.log.Info("replaying messages accepted before the last stop", "count", len(pending))
	}
	e.qmu.Lock()
	e.replayed = true
	e.qmu.Unlock()
	return nil
}

// Run starts the engine, waits for ctx to end, then drains within drain.
func (e *Engine) Run(ctx context.Context, drain time.Duration) error {
	if err := e.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	return e.Drain(dctx)
}

// Drain stops accepting messages and waits until every queued message has
// been handled, or ctx ends.
func (e *Engine) Drain(ctx context.Context) error {
	e.qmu.Lock()
	e.closed = true
	e.qmu.Unlock()
	if err := e.WaitIdle(ctx); err != nil {
		e.cancel() // abandon in-flight work; it stays pending for replay
		return fmt.Errorf("bot: drain: %w", err)
	}
	return nil
}

// WaitIdle blocks until no message is queued or in flight, or ctx ends;
// unlike Drain it keeps accepting.
func (e *Engine) WaitIdle(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		e.qmu.Lock()
		for len(e.slots) > 0 || e.inflight > 0 {
			e.idle.Wait()
		}
		e.qmu.Unlock()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// QueueDepth reports messages queued (including in flight) and in flight.
func (e *Engine) QueueDepth() (queued, inflight int) {
	e.qmu.Lock()
	defer e.qmu.Unlock()
	return len(e.slots), e.inflight
}

// Close stops the workers, abandoning queued work (it stays pending in the
// store and is replayed on the next Start). Call Drain first to finish it.
func (e *Engine) Close() error {
	e.qmu.Lock()
	if e.stopping {
		e.qmu.Unlock()
		return nil
	}
	e.closed, e.stopping = true, true
	e.qmu.Unlock()
	e.cancel()
	e.qmu.Lock()
	close(e.ready) // no sender remains: enqueue and workers check stopping
	e.qmu.Unlock()
	e.wg.Wait()
	e.bgStop() // the plug-ins' background work ends (a last flush)
	e.bg.Wait()
	return nil
}
