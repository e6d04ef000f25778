"""Stage 3: the multi-factor final ranking (relevance, recency and frequency, relations, confidence, versions)."""
