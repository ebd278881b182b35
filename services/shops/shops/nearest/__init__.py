"""The nearest open point offering something: an in-process spatial index kept current from writes."""
