"""First-stage retrieval: keyword (BM25) and dense search over a corpus."""
