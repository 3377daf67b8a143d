"""Intake: a class folder or one submission as plain source text and facts about it; nothing here executes student code."""
