"""xiezuo (协作): the data platform of a city's East–West cooperation programme."""

__version__ = "0.1.0"
