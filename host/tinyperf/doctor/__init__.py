"""`tinyperf doctor`: walks a bench (ports, device, monitor, the wiring between them) before a long run
and says, one line per check, what is right and what is wrong with it and what to do about it."""
