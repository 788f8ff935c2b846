"""``python -m targetwatch`` runs the command line."""

from .cli import main

main()
