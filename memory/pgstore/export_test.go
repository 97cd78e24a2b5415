package pgstore

// StopImportAfter makes an import stop after n batches, as a crash would.
func StopImportAfter(o *ImportOptions, n int) { o.stopAfter = n }
