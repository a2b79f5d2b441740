"""Simulated benches: the board (`board/`), the instruments (`instruments/`), the wire between them,
and the launchers that start them as processes, healthy or with bench faults."""
