"""Adapters that put any crossrank Reranker (local, hosted, or a remote crossrank server) into other frameworks."""
