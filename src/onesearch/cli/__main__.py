"""``python -m onesearch.cli`` (what ``torchrun -m onesearch.cli train ...`` starts on each rank)."""

from onesearch.cli import main

if __name__ == "__main__":  # not when a spawned training process re-imports it
    main()
