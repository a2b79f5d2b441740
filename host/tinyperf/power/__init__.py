"""Energy monitors: instrument profiles, drivers, traces, and energy between timestamp edges."""
