"""One module per program: eligibility, schedule, what counts as standardized management, classification,
indicators and targets — each rule with its source, so an expert can review a program in one file."""
