"""Hosted rerank APIs (Cohere, Jina, Voyage, Hugging Face TEI, a crossrank server) behind the Reranker interface."""
