"""`crossrank serve`: a Cohere- and TEI-compatible rerank server with dynamic batching (engine / app split)."""
