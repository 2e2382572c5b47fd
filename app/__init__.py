"""hotline: the ticketing API behind a city call-centre hotline."""
