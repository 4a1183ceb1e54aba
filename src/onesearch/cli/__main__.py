"""``python -m onesearch.cli`` (what ``torchrun -m onesearch.cli train ...`` starts on each rank)."""

from onesearch.cli import main

main()
