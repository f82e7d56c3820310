"""Format-preserving editors: they change only the bytes an edit must change, and prove it."""
