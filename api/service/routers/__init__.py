"""One router per resource: health, scenarios, runs, kinds."""
