"""Analysis: gaps per site, area and hexagon; accessibility (E2SFCA); siting; public-mode privacy."""
