"""xiezuo (协作): the data platform of a city's East–West cooperation programme."""
import os

__version__ = "0.1.0"

# polars (the CSV intake, intake/fastcsv.py) allocates with its own jemalloc, which by default keeps
# freed pages for 10 s: the intake's peak memory then holds every intermediate column at once
# (400k-row CSV: 452 MB → 303 MB for parsing with pages returned at once, ~0.1 s slower).
# Read by jemalloc when polars is first loaded, so it is set before anything imports polars.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
