"""A run: request -> plan -> connected bench -> mode (performance, accuracy, energy, scenarios) ->
session folder with its journal, provenance and results."""
