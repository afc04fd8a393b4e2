"""Imported by the fork server of the workers (clkg/forking.py) and nowhere else: the shapes
are parsed and their SPARQL queries prepared once there, so that every process forked from it to read
or validate an entry starts warm (about a second of work it would otherwise repeat per entry). The
objects made so far are then frozen out of the garbage collector's reach, so that a forked process
does not copy their memory pages by merely scanning them."""
import gc

from clkg import validation

validation.warm_up()
gc.freeze()
