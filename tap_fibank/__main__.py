"""`python -m tap_fibank` runs the tap."""

from tap_fibank.tap import main

main()
