"""Simulated energy monitors (LPM01A, PPK2, Otii, SCPI supply, Joulescope) speaking each instrument's
own protocol, fed by the simulated board's power wire on a shared sample timeline."""
