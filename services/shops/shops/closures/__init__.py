"""Days a shop stays closed (holidays, the August closing, a sick day), honoured by the nearest-point search."""
