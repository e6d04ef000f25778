"""Evaluation on BEIR-layout data: loading, first-stage runs and trec_eval metrics."""
