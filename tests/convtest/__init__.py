"""Tests of botkit.convtest: YAML conversation tests, their runner and pytest plugin."""
