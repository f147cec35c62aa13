"""`python -m casectl`."""

from casectl.cli import main

main()
