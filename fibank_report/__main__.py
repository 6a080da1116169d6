"""`python -m fibank_report`: write output/report.html from the warehouse's marts."""

import sys

from fibank_report.cli import main

sys.exit(main())
