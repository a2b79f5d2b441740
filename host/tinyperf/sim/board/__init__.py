"""The simulated board: the reference firmware's protocol (and the tinyperf extension) answered by TFLM
on a pseudo-terminal, its clock, the enhanced interface board, and the sww01 streaming device."""
