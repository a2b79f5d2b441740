"""Streaming wakeword (sww01): front end, test streams, the device's detection loop, scoring, the bench run."""
