package pgstore

// StopImportAfter makes an import stop after n batches, as a crash would.
func StopImportAfter(o *ImportOptions, n int) { o.stopAfter = n }

// Crash stops s as kill -9 would: its leases and leads are neither kept
// alive nor given up, and its connections go.
func (s *Store) Crash() {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.stop()
		s.listening.Wait()
		s.pool.Close()
	})
}
