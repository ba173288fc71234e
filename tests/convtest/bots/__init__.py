"""Bots that the conversation tests in this folder run."""
