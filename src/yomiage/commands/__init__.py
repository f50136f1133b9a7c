"""The command front-ends: each a thin layer over the stages, called by ``yomiage.cli``."""
